// babel-jest transforms the ES-module JavaScript of some dependencies for jest.
module.exports = require('@jupyterlab/testutils/lib/babel.config');
