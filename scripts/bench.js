#!/usr/bin/env node
// `npm run bench [-- SECTION...]`: runs each component's benchmark and prints every figure
// beside the baseline measured in the same run. Sections: apiserver (more as they land).
'use strict';

const sections = {
  apiserver: async (log) => require('../packages/apiserver/dist/bench/api-bench').runApiBench({ log }),
};

function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !sections[w]);
  if (unknown.length) {
    console.error(`bench: unknown section ${unknown.join(', ')}; known: ${Object.keys(sections).join(', ')}`);
    process.exit(2);
  }
  const run = wanted.length ? wanted : Object.keys(sections);
  let failed = false;
  for (const name of run) {
    console.log(`\n== ${name}`);
    try {
      const figures = await sections[name]((msg) => console.error(`   (${msg})`));
      for (const f of figures) {
        console.log(
          `${f.name}: ${fmt(f.value)} ${f.unit} | baseline (${f.baselineName}): ${fmt(f.baseline)} ${f.unit} | ratio ${fmt(f.ratio)}${f.goal ? ` | ${f.goal}` : ''}`,
        );
      }
    } catch (err) {
      failed = true;
      console.error(`${name}: bench failed: ${err && err.message ? err.message : err}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main();
