// Typed tables over arquero. arquero's column values are `any`; every table tlbsim builds
// has a row type declared in tables.ts, and this wrapper keeps that type from the builder
// to the CSV writer and the report, so a renamed column is a compile error, not an empty
// chart.
import { table, type ColumnTable } from 'arquero';

/** A cell tlbsim writes: numbers, text, or nothing (a ratio against zero). */
export type Cell = number | string | boolean | null;
export type Row = { [column: string]: Cell };

export class TypedTable<R extends Row> {
  private constructor(
    /** The table's name (its CSV file is `<name>.csv`). */
    readonly name: string,
    /** Column order as written to CSV. */
    readonly columns: readonly (keyof R & string)[],
    readonly data: ColumnTable,
  ) {}

  static of<R extends Row>(name: string, columns: readonly (keyof R & string)[], rows: readonly R[]): TypedTable<R> {
    // arquero infers columns from the first row; build column-wise so an empty table still
    // has its columns and a missing cell is null rather than undefined.
    const cols: Record<string, Cell[]> = {};
    for (const c of columns) cols[c] = rows.map((r) => (r[c] === undefined ? null : r[c]));
    return new TypedTable<R>(name, columns, table(cols) as ColumnTable);
  }

  /** Wrap the result of an arquero transformation that produces rows of type R. */
  static wrap<R extends Row>(name: string, columns: readonly (keyof R & string)[], data: ColumnTable): TypedTable<R> {
    const have = new Set(data.columnNames());
    for (const c of columns) if (!have.has(c)) throw new Error(`table ${name}: arquero result has no column "${c}"`);
    return new TypedTable<R>(name, columns, data.select(...columns) as ColumnTable);
  }

  get numRows(): number { return this.data.numRows(); }

  rows(): R[] { return this.data.objects() as R[]; }

  /** One column's values. */
  column<K extends keyof R & string>(name: K): R[K][] {
    return this.data.array(name) as unknown as R[K][];
  }
}
