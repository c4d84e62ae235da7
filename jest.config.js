const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

// Dependencies that ship ES modules and must go through babel-jest.
const esModules = [
  '@codemirror',
  '@jupyter/ydoc',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyterlab/',
  '@microsoft/',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  roots: ['<rootDir>/labextension/src'],
  testRegex: '/__tests__/.*\\.spec\\.tsx?$',
  reporters: ['default'],
  collectCoverageFrom: [
    'labextension/src/**/*.{ts,tsx}',
    '!labextension/src/**/__tests__/**',
    '!labextension/src/**/*.d.ts'
  ],
  coverageReporters: ['lcov', 'text'],
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
