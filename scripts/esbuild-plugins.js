// esbuild plugins shared by the browser builds (scripts/build-esm.js, scripts/build-web.js).
'use strict';
const { builtinModules } = require('node:module');

const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Fails the build when code meant for browsers imports a Node built-in (`what` names that code). */
function refuseNodeBuiltins(what) {
  return {
    name: 'refuse-node-builtins',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) =>
        NODE_BUILTINS.has(args.path) || args.path.startsWith('node:')
          ? { errors: [{ text: `${what} imports the Node built-in '${args.path}' (from ${args.importer})` }] }
          : undefined,
      );
    },
  };
}

module.exports = { refuseNodeBuiltins };
