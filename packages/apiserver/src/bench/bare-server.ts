#!/usr/bin/env node
/**
 * The bench's ceiling: the same stack (express + better-sqlite3 in WAL mode) with no API
 * machinery at all. POST /pods stores the JSON body, GET /pods returns every stored body,
 * GET /watch streams each stored body to every open connection, GET /watch?node=N only the
 * bodies whose spec.nodeName is N (a map lookup: the least a routed fan-out can cost).
 */
import fs from 'fs';
import path from 'path';
import express from 'express';
import type { Response } from 'express';
import Database from 'better-sqlite3';

const dir = process.argv[2];
fs.mkdirSync(dir, { recursive: true });
const db = new Database(path.join(dir, 'bare.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS pods (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, value TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO pods (name, value) VALUES (?, ?)');
const all = db.prepare('SELECT value FROM pods ORDER BY name');
const watchers = new Set<Response>();
const nodeWatchers = new Map<string, Set<Response>>();

const app = express();
app.use(express.json({ limit: '3mb' }));
app.post('/pods', (req, res) => {
  const body = req.body as { metadata?: { name?: string }; spec?: { nodeName?: string } };
  const json = JSON.stringify(body);
  const id = insert.run(body.metadata?.name ?? null, json).lastInsertRowid;
  const line = `{"type":"ADDED","object":${json}}\n`;
  for (const w of watchers) w.write(line);
  for (const w of nodeWatchers.get(body.spec?.nodeName ?? '') ?? []) w.write(line);
  res.status(201).json({ ...body, id: Number(id) });
});
app.get('/pods', (_req, res) => {
  const items = (all.all() as { value: string }[]).map((r) => r.value).join(',');
  res.type('application/json').send(`{"items":[${items}]}`);
});
app.get('/watch', (req, res) => {
  res.status(200).type('application/json');
  res.flushHeaders();
  const node = typeof req.query.node === 'string' ? req.query.node : undefined;
  let set = watchers;
  if (node !== undefined) {
    set = nodeWatchers.get(node) ?? new Set();
    nodeWatchers.set(node, set);
  }
  set.add(res);
  req.on('close', () => set.delete(res));
});
const server = app.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
