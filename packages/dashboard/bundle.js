#!/usr/bin/env node
// Builds the page into dist/public (part of the root `npm run build`): the app bundled and
// minified by esbuild (Preact included; nothing is loaded from elsewhere at run time),
// beside index.html and app.css.
'use strict';

const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const src = path.join(__dirname, 'src', 'app');
const out = path.join(__dirname, 'dist', 'public');

fs.mkdirSync(out, { recursive: true });
esbuild
  .build({
    entryPoints: [path.join(src, 'main.tsx')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  })
  .then(() => {
    for (const file of ['index.html', 'app.css']) fs.copyFileSync(path.join(src, file), path.join(out, file));
  })
  .catch(() => process.exit(1));
