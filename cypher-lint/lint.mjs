// Check Cypher texts with Neo4j's own front end (parser and semantic analysis, as in
// @neo4j-cypher/language-support): Cypher 5, Neo4j's built-in functions and procedures, no
// APOC or other plugin.
//
//   node lint.mjs < queries.json   a JSON list of {"source": ..., "text": ...}
//   node lint.mjs FILE.cypher ...  each file is one query, its path the source
//
// Prints each problem as SOURCE:LINE:COL: error|warning: message (LINE and COL from 1) and
// exits 1 if there is an error. Warnings (deprecations, Neo4j's notifications) are printed but
// do not fail: Neo4j runs such a query. Exits 2 on bad input.
import { readFileSync } from 'node:fs';
import {
  isNotParamError,
  lintCypherQuery,
  parseStatementsStrs,
  testData,
} from '@neo4j-cypher/language-support';

const VERSION = 'CYPHER 5';
const PLUGIN = /^(apoc|gds)\./; // APOC and Graph Data Science: not part of Neo4j
// Real built-ins that must be in the list: a guard against the list changing shape.
const EXPECTED = {
  functions: ['toLower', 'coalesce', 'count', 'collect', 'elementId'],
  procedures: ['db.labels', 'db.propertyKeys'],
};

/** Neo4j's built-in functions and procedures for Cypher 5.
 *
 * Without them the front end resolves no function at all, so a misspelt or unknown one
 * would pass. The package ships them only in its `testData.mockSchema` (the functions and
 * procedures of a real Neo4j, with APOC and GDS installed); the plugins are dropped here:
 * a function must be marked built-in, a procedure must not be in a plugin's namespace. */
function builtIns() {
  const functions = testData?.mockSchema?.functions?.[VERSION] ?? {};
  const procedures = testData?.mockSchema?.procedures?.[VERSION] ?? {};
  const schema = {
    defaultLanguage: VERSION,
    functions: {
      [VERSION]: Object.fromEntries(
        Object.entries(functions).filter(([, fn]) => fn.isBuiltIn === true),
      ),
    },
    procedures: {
      [VERSION]: Object.fromEntries(
        Object.entries(procedures).filter(([name]) => !PLUGIN.test(name)),
      ),
    },
  };
  for (const [kind, names] of Object.entries(EXPECTED)) {
    const missing = names.filter((n) => !(n in schema[kind][VERSION]));
    if (missing.length > 0) {
      fail(`the package's list of Neo4j ${kind} lacks ${missing.join(', ')}; ` +
           'lint.mjs needs updating for this version of @neo4j-cypher/language-support');
    }
  }
  return schema;
}

function fail(message) {
  process.stderr.write(`cypher-lint: ${message}\n`);
  process.exit(2);
}

function readInput(args) {
  if (args.length > 0) {
    return args.map((path) => {
      try {
        return { source: path, text: readFileSync(path, 'utf8') };
      } catch (err) {
        return fail(`cannot read ${path}: ${err.message}`);
      }
    });
  }
  let items;
  try {
    items = JSON.parse(readFileSync(0, 'utf8'));
  } catch (err) {
    return fail(`standard input is not JSON: ${err.message}`);
  }
  const bad = !Array.isArray(items) || items.some(
    (i) => typeof i?.source !== 'string' || typeof i?.text !== 'string');
  if (bad) fail('standard input must be a JSON list of {"source": str, "text": str}');
  return items;
}

/** The problems with one text, as {line, col, severity, message}. */
function check(text, schema) {
  // Parameters travel with the query ($name): the package reports each one as undefined
  // unless the schema gives its value, which says nothing about the query.
  const { diagnostics } = lintCypherQuery(text, schema, {
    consoleCommandsEnabled: false, // `:param` and friends are Browser's, not Neo4j's
  });
  const problems = diagnostics.filter(isNotParamError).map((d) => ({
    line: d.range.start.line + 1,
    col: d.range.start.character + 1,
    severity: d.severity === 1 ? 'error' : 'warning',
    message: d.message.replace(/\s+/g, ' ').trim(),
  }));
  // Neo4j runs one statement per query (a trailing `;` is fine); a comment is none.
  const statements = parseStatementsStrs(text).filter(
    (s) => s.replace(/\/\*[\s\S]*?\*\/|\/\/.*/g, '').trim().length > 0);
  if (statements.length > 1) {
    problems.push({
      line: 1, col: 1, severity: 'error',
      message: `${statements.length} statements; Neo4j runs one statement per query`,
    });
  }
  if (text.trim().length === 0) {
    problems.push({ line: 1, col: 1, severity: 'error', message: 'no statement' });
  }
  return problems;
}

const items = readInput(process.argv.slice(2));
if (items.length === 0) fail('nothing to check');
const schema = builtIns();
let errors = 0;
let warnings = 0;
for (const { source, text } of items) {
  for (const p of check(text, schema)) {
    if (p.severity === 'error') errors += 1;
    else warnings += 1;
    process.stdout.write(`${source}:${p.line}:${p.col}: ${p.severity}: ${p.message}\n`);
  }
}
process.stderr.write(
  `cypher-lint: ${items.length} ${items.length === 1 ? 'query' : 'queries'} checked as ${VERSION} with Neo4j's built-in ` +
  `functions and procedures: ${errors} errors, ${warnings} warnings\n`);
process.exit(errors > 0 ? 1 : 0);
