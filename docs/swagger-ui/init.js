// init.js -- starts Swagger UI on ./openapi.yaml for the /docs page. Every
// operation is listed (docExpansion "list"); validatorUrl null keeps the
// page from asking an outside validator about the document.
window.ui = SwaggerUIBundle({
  url: 'openapi.yaml',
  dom_id: '#swagger-ui',
  docExpansion: 'list',
  deepLinking: true,
  validatorUrl: null,
});
