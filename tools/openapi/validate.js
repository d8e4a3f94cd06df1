#!/usr/bin/env node
// validate.js -- checks every answer the API tests received (the JSON
// lines ROOST_TEST_RECORD wrote: method, path, status, headers, body)
// against docs/openapi.yaml with openapi-backend's router and response
// validators (Ajv underneath):
//   - a documented operation: the status must be one it documents, the
//     headers it documents must be there and match, the body must match
//     the documented media type and schema (none on HEAD and 304);
//   - a documented path with a method it does not document: 405 with an
//     Allow header naming exactly the documented methods (HEAD with GET);
//   - anything else: an error body of the Error schema (404 and the
//     answers nginx gives before routing: 400, 413, 414, 429).
// Prints "N responses validated, M mismatches" and exits 1 on a mismatch.
// Usage: node validate.js OPENAPI.yaml RECORD.jsonl
'use strict';
const fs = require('fs');
const YAML = require('yaml');
const { OpenAPIBackend } = require('openapi-backend');

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Answers nginx gives before any route is chosen.
const BEFORE_ROUTING = new Set([400, 413, 414, 429]);

function mediaType(headers) {
  return (headers['content-type'] || '').split(';')[0].trim().toLowerCase();
}

function parseBody(rec) {
  try {
    return { ok: true, value: JSON.parse(rec.body) };
  } catch (e) {
    return { ok: false, why: `body is not JSON: ${rec.body.slice(0, 80)}` };
  }
}

function errorsText(errors) {
  return (errors || []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
}

class Checker {
  constructor(definition) {
    this.definition = definition;
    this.api = new OpenAPIBackend({ definition, quick: true, validate: true, strict: false });
  }

  async init() {
    await this.api.init();
    const errorSchema = this.definition.components.schemas.Error;
    // The Error schema on its own, for answers outside any operation.
    const Ajv = require('ajv');
    this.ajv = new Ajv({ strict: false });
    this.errorValidator = this.ajv.compile(errorSchema);
    this.paramValidators = new Map();
  }

  // The operation for method and path: openapi-backend's router, then the
  // path held to its template exactly (the router forgives a trailing
  // slash, the server does not) with every path parameter valid by its
  // schema (so /users/SignIn is never /users/{user_Id}: ids are digits).
  match(method, path) {
    const op = this.api.router.matchOperation({ method, path, headers: {} });
    if (!op) return null;
    const names = [];
    const re = new RegExp('^' + op.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{([^}]+)\}/g, (_, n) => { names.push(n); return '([^/]+)'; }) + '$');
    const m = re.exec(path);
    if (!m) return null;
    for (const p of op.parameters || []) {
      if (p.in !== 'path') continue;
      const value = decodeURIComponent(m[names.indexOf(p.name) + 1] || '');
      if (!this.paramValidator(p).call(null, value)) return null;
    }
    return op;
  }

  paramValidator(p) {
    const key = JSON.stringify(p.schema);
    if (!this.paramValidators.has(key)) this.paramValidators.set(key, this.ajv.compile(p.schema));
    return this.paramValidators.get(key);
  }

  // The documented operations of the path template matching `path`.
  operationsOfPath(path) {
    return METHODS.map((m) => this.match(m, path)).filter(Boolean);
  }

  checkErrorBody(rec) {
    if (mediaType(rec.headers) !== 'application/json') return `content type ${rec.headers['content-type']}`;
    const body = parseBody(rec);
    if (!body.ok) return body.why;
    if (!this.errorValidator(body.value)) return `error body: ${errorsText(this.errorValidator.errors)}`;
    if (body.value.error.status !== rec.status) return `error.status ${body.value.error.status} on a ${rec.status}`;
    return null;
  }

  // An answer to a method the path does not document.
  checkUndocumentedMethod(rec, ops) {
    if (rec.status === 405) {
      const want = new Set(ops.map((o) => o.method.toUpperCase()));
      if (want.has('GET')) want.add('HEAD');
      const got = new Set((rec.headers.allow || '').split(',').map((s) => s.trim()).filter(Boolean));
      const same = want.size === got.size && [...want].every((m) => got.has(m));
      if (!same) return `Allow "${rec.headers.allow}", the document has ${[...want].join(', ')}`;
      return this.checkErrorBody(rec);
    }
    if (BEFORE_ROUTING.has(rec.status)) return this.checkErrorBody(rec);
    return `status ${rec.status} for an undocumented method (want 405)`;
  }

  checkOperation(rec, op) {
    const responses = op.responses || {};
    const doc = responses[String(rec.status)];
    if (!doc) return `status ${rec.status} is not documented for ${op.operationId}`;
    const hv = this.api.validator.validateResponseHeaders(rec.headers, op, { statusCode: rec.status });
    if (hv.errors) return `headers: ${errorsText(hv.errors)}`;
    const noBody = rec.method === 'HEAD' || rec.status === 304 || !doc.content;
    if (noBody) {
      if (rec.body !== '') return `a body where the document has none: ${rec.body.slice(0, 80)}`;
      return null;
    }
    const type = mediaType(rec.headers);
    if (!doc.content[type]) return `content type "${type}", documented: ${Object.keys(doc.content).join(', ')}`;
    let value = rec.body;
    if (type === 'application/json') {
      const body = parseBody(rec);
      if (!body.ok) return body.why;
      value = body.value;
    }
    const v = this.api.validator.validateResponse(value, op, rec.status);
    if (v.errors) return `body: ${errorsText(v.errors)}`;
    return null;
  }

  check(rec) {
    const path = rec.path.split('?')[0];
    const method = rec.method === 'HEAD' ? 'get' : rec.method.toLowerCase();
    const op = this.match(method, path);
    if (op) return this.checkOperation(rec, op);
    const ops = this.operationsOfPath(path);
    if (ops.length) return this.checkUndocumentedMethod(rec, ops);
    if (rec.status === 404 || BEFORE_ROUTING.has(rec.status)) {
      return rec.method === 'HEAD' ? null : this.checkErrorBody(rec);
    }
    return `status ${rec.status} on an undocumented path`;
  }
}

async function main() {
  const [specPath, recordPath] = process.argv.slice(2);
  if (!specPath || !recordPath) {
    console.error('usage: node validate.js OPENAPI.yaml RECORD.jsonl');
    process.exit(2);
  }
  const checker = new Checker(YAML.parse(fs.readFileSync(specPath, 'utf8')));
  await checker.init();
  const lines = fs.readFileSync(recordPath, 'utf8').split('\n').filter(Boolean);
  let mismatches = 0;
  const byOperation = new Map();
  for (const line of lines) {
    const rec = JSON.parse(line);
    const why = checker.check(rec);
    if (why) {
      mismatches++;
      if (mismatches <= 40) console.log(`MISMATCH ${rec.method} ${rec.path.slice(0, 100)} ${rec.status}: ${why}`);
    }
    const op = checker.match(rec.method === 'HEAD' ? 'get' : rec.method.toLowerCase(), rec.path.split('?')[0]);
    const key = op ? op.operationId : '(no operation)';
    byOperation.set(key, (byOperation.get(key) || 0) + 1);
  }
  const documented = Object.values(checker.definition.paths)
    .flatMap((item) => METHODS.filter((m) => item[m]).map((m) => item[m].operationId));
  const unexercised = documented.filter((id) => !byOperation.has(id));
  if (unexercised.length) console.log(`operations no test called: ${unexercised.join(', ')}`);
  console.log(`${lines.length} responses validated, ${mismatches} mismatches`);
  process.exit(mismatches === 0 && lines.length > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
