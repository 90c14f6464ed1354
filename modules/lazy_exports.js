// Preloaded (node --require) into the jsii kernel process by modules/bindings.py.
//
// The AWS provider's lib/index.js requires all ~2,200 resource modules eagerly
// (`exports.sqsQueue = require("./sqs-queue");` ..., or with __importStar in CDK Terrain's), and compiling them costs ~3 s
// before the first construct exists. This rewrites exactly those lines of that one
// file into getters that require the module on first access, the same idea as the
// Python side of modules/bindings.py. Any line of another shape is left as it is.
'use strict';
const Module = require('module');
const fs = require('fs');
const path = require('path');

// @cdktf/provider-aws (CDKTF) or @cdktn/provider-aws (CDK Terrain): the same generated layout.
const PACKAGE_MARKS = ['@cdktf', '@cdktn'].map((scope) => `${path.sep}${scope}${path.sep}provider-aws${path.sep}`);
const INDEX_SUFFIX = `${path.sep}lib${path.sep}index.js`;
// CDKTF's bindings: `exports.x = require("./x");`. CDK Terrain's (a newer TypeScript):
// `exports.x = __importStar(require("./x/index"));`, where __importStar is defined in the same file.
const EAGER_EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/gm;
const EAGER_IMPORT_STAR = /^exports\.([A-Za-z_$][\w$]*) = __importStar\(require\("(\.\/[\w./-]+)"\)\);$/gm;

function lazy(name, load) {
  const key = JSON.stringify(name);
  return (
    `Object.defineProperty(exports, ${key}, { enumerable: true, configurable: true, get() {` +
    ` const value = ${load};` +
    ` Object.defineProperty(exports, ${key}, { value, enumerable: true, configurable: true, writable: true });` +
    ` return value; } });`
  );
}

function rewrite(source) {
  return source
    .replace(EAGER_EXPORT, (_line, name, specifier) => lazy(name, `require(${JSON.stringify(specifier)})`))
    .replace(EAGER_IMPORT_STAR, (_line, name, specifier) => lazy(name, `__importStar(require(${JSON.stringify(specifier)}))`));
}

const loadJavaScript = Module._extensions['.js'];
Module._extensions['.js'] = function (module, filename) {
  if (PACKAGE_MARKS.some((mark) => filename.includes(mark)) && filename.endsWith(INDEX_SUFFIX)) {
    return module._compile(rewrite(fs.readFileSync(filename, 'utf8')), filename);
  }
  return loadJavaScript(module, filename);
};

module.exports = { rewrite };
