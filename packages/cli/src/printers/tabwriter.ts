// Column alignment with the semantics of Go's text/tabwriter, which kubectl prints through:
// a cell ends at a tab; the cells of one column are aligned across a block of consecutive
// lines that all have that column; a line's last (untabbed) cell is never padded.

export interface TabwriterOptions {
  minWidth: number;
  padding: number;
}

/** kubectl's table printer: minimum column width 6, three spaces between columns. */
export const tableLayout: TabwriterOptions = { minWidth: 6, padding: 3 };
/** kubectl describe: two spaces between columns. */
export const describeLayout: TabwriterOptions = { minWidth: 0, padding: 2 };

function displayWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Aligns text whose cells are separated by tabs; returns the aligned text. */
export function alignTabs(text: string, opts: TabwriterOptions): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = new Array<string>(lines.length);
  const widths: number[] = [];

  const emit = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const cells = lines[i];
      let line = '';
      for (let j = 0; j < cells.length; j++) {
        const cell = cells[j];
        line += j < widths.length ? cell + ' '.repeat(Math.max(0, widths[j] - displayWidth(cell))) : cell;
      }
      out[i] = line;
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= lines[i].length - 1) continue;
      emit(start, i);
      start = i;
      let width = opts.minWidth;
      for (; i < line1; i++) {
        if (column >= lines[i].length - 1) break;
        width = Math.max(width, displayWidth(lines[i][column]) + opts.padding);
      }
      widths.push(width);
      format(start, i);
      widths.pop();
      start = i;
      i--;
    }
    emit(start, line1);
  };

  format(0, lines.length);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

/**
 * A table whose column widths only grow: `kubectl get -w` keeps aligning each new row with
 * what it printed before, widening a column when a longer cell arrives.
 */
export class GrowingTable {
  private widths: number[] = [];

  constructor(private readonly opts: TabwriterOptions = tableLayout) {}

  /** Formats rows (each a list of cells), remembering the widths for later rows. */
  format(rows: string[][]): string {
    for (const row of rows) {
      for (let j = 0; j < row.length - 1; j++) {
        const w = Math.max(this.opts.minWidth, displayWidth(row[j]) + this.opts.padding);
        if (w > (this.widths[j] ?? 0)) this.widths[j] = w;
      }
    }
    let text = '';
    for (const row of rows) {
      let line = '';
      for (let j = 0; j < row.length; j++) {
        const cell = row[j];
        line += j < row.length - 1 ? cell + ' '.repeat(Math.max(0, this.widths[j] - displayWidth(cell))) : cell;
      }
      text += line + '\n';
    }
    return text;
  }
}
