// ESLint (flat config) for the browser modules in static/js: plain ES modules, no bundler.
// `make lint` runs it with the Python linters.
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      ...js.configs.recommended.rules,
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_", caughtErrors: "all" }],
      "eqeqeq": ["error", "smart"],
      "no-var": "error",
      "prefer-const": "error",
      "no-shadow": ["error", { hoist: "functions" }],
      "no-implicit-coercion": ["error", { boolean: false }],
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-console": ["error", { allow: ["warn", "error"] }],
      // A page module stays small enough to read: split by responsibility past this.
      "max-lines": ["error", { max: 500 }],
      // One HTTP client: api.js (CSRF, the error shape, timeouts, safe retries).
      "no-restricted-globals": ["error",
        { name: "fetch", message: "Use api.js (request, get, send, upload)." },
        { name: "XMLHttpRequest", message: "Use api.js's upload()." }],
    },
  },
  {
    // Loaded by the service worker with importScripts(): a classic script in a worker's scope.
    files: ["static/js/sw-push.js", "static/js/sw-shell.js"],
    languageOptions: { sourceType: "script", globals: globals.serviceworker },
  },
  {
    // The worker passes the page's requests on: api.js is a page module it cannot import.
    files: ["static/js/sw-shell.js"],
    rules: { "no-restricted-globals": "off" },
  },
  {
    files: ["static/js/api.js"],
    rules: { "no-restricted-globals": "off" },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
    rules: js.configs.recommended.rules,
  },
];
