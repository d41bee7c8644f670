export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** A cell's text, and optionally how to color it once it is padded. */
export interface Cell {
  text: string;
  paint?: (padded: string) => string;
}

const GAP = '  ';

/**
 * Columns aligned on the visible text: padding is computed before any color codes
 * are added, so colored cells line up with plain ones.
 */
export function renderTable(columns: readonly Column[], rows: readonly (string | Cell)[][]): string[] {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? { text: cell } : cell)));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((row) => printable(row[i]?.text ?? '').length)),
  );
  const line = (row: Cell[]) =>
    columns
      .map((column, i) => {
        const cell = row[i] ?? { text: '' };
        const text = printable(cell.text);
        const width = widths[i] ?? 0;
        const padded = column.align === 'right' ? text.padStart(width) : text.padEnd(width);
        return cell.paint ? cell.paint(padded) : padded;
      })
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => ({ text: c.header }))), ...cells.map(line)];
}

// Values come from the network (addresses a peer advertised): control characters could
// move the cursor or recolor the terminal, so each becomes U+FFFD.
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD');
}
