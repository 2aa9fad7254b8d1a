#!/usr/bin/env node
// Entry point of the `resnext` command (compiled TypeScript lives in dist/).
require('../dist/src/cli/main.js').main(process.argv);
