#!/usr/bin/env node
// The peapod-hollow command: a committed, executable entry point (a build writes dist/
// without the executable bit), which runs the compiled main.
require("../dist/main.js");
