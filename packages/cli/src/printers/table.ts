// Tables as the server renders them (meta.k8s.io/v1 Table), printed in kubectl's layout,
// so the columns always match what kubectl shows against the same server.

import { GrowingTable } from './tabwriter';

export const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export interface TableColumn {
  name: string;
  type?: string;
  priority?: number;
}

export interface TableRow {
  cells: unknown[];
  object?: { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };
}

export interface ServerTable {
  kind: 'Table';
  metadata?: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

export function isTable(x: unknown): x is ServerTable {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Table' && Array.isArray((x as ServerTable).rows);
}

export interface TableOptions {
  wide: boolean;
  /** Prepend NAMESPACE (from each row's object metadata). */
  withNamespace: boolean;
  /** Append LABELS. */
  showLabels: boolean;
  noHeaders: boolean;
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export function labelsText(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${(labels as Record<string, string>)[k]}`).join(',');
}

/** Turns a server Table into printable rows of cells (the header row first unless noHeaders). */
export class TablePrinter {
  private columns: number[] | undefined;
  private readonly layout = new GrowingTable();
  private headerShown = false;

  constructor(private readonly opts: TableOptions) {}

  private visibleColumns(table: ServerTable): number[] {
    const cols: number[] = [];
    table.columnDefinitions.forEach((c, i) => {
      if (this.opts.wide || (c.priority ?? 0) === 0) cols.push(i);
    });
    return cols;
  }

  header(table: ServerTable): string[] {
    const cols = this.visibleColumns(table);
    const header = cols.map((i) => table.columnDefinitions[i].name.toUpperCase());
    if (this.opts.withNamespace) header.unshift('NAMESPACE');
    if (this.opts.showLabels) header.push('LABELS');
    return header;
  }

  rows(table: ServerTable): string[][] {
    this.columns ??= this.visibleColumns(table);
    const cols = this.columns;
    const out: string[][] = new Array<string[]>(table.rows.length);
    for (let r = 0; r < table.rows.length; r++) {
      const row = table.rows[r];
      const cells: string[] = new Array<string>(cols.length);
      for (let j = 0; j < cols.length; j++) cells[j] = cellText(row.cells[cols[j]]);
      if (this.opts.withNamespace) cells.unshift(row.object?.metadata?.namespace ?? '');
      if (this.opts.showLabels) cells.push(labelsText(row.object?.metadata?.labels));
      out[r] = cells;
    }
    return out;
  }

  /** The rows, aligned with what was printed before; the header goes above the first rows printed (unless noHeaders). */
  print(table: ServerTable): string {
    const rows = this.rows(table);
    if (!this.headerShown && !this.opts.noHeaders && rows.length > 0) {
      rows.unshift(this.header(table));
      this.headerShown = true;
    }
    return this.layout.format(rows);
  }
}
