// Preloaded (node --require) into the jsii kernel process by modules/bindings.py.
//
// The AWS provider's lib/index.js requires all ~2,200 resource modules eagerly
// (`exports.sqsQueue = require("./sqs-queue");` ...), and compiling them costs ~3 s
// before the first construct exists. This rewrites exactly those lines of that one
// file into getters that require the module on first access, the same idea as the
// Python side of modules/bindings.py. Any line of another shape is left as it is.
'use strict';
const Module = require('module');
const fs = require('fs');
const path = require('path');

const PACKAGE_MARK = `${path.sep}@cdktf${path.sep}provider-aws${path.sep}`;
const INDEX_SUFFIX = `${path.sep}lib${path.sep}index.js`;
const EAGER_EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/gm;

function lazyExport(_line, name, specifier) {
  const key = JSON.stringify(name);
  const target = JSON.stringify(specifier);
  return (
    `Object.defineProperty(exports, ${key}, { enumerable: true, configurable: true, get() {` +
    ` const value = require(${target});` +
    ` Object.defineProperty(exports, ${key}, { value, enumerable: true, configurable: true, writable: true });` +
    ` return value; } });`
  );
}

function rewrite(source) {
  return source.replace(EAGER_EXPORT, lazyExport);
}

const loadJavaScript = Module._extensions['.js'];
Module._extensions['.js'] = function (module, filename) {
  if (filename.includes(PACKAGE_MARK) && filename.endsWith(INDEX_SUFFIX)) {
    return module._compile(rewrite(fs.readFileSync(filename, 'utf8')), filename);
  }
  return loadJavaScript(module, filename);
};

module.exports = { rewrite };
