/**
 * Ids for the staleness auditor to look at in `table` (integer `id` primary key): `count` rows at
 * random, plus about a quarter as many random ids in 1..max(id). The second part finds ids of
 * deleted rows, the only way to reach an orphaned cache entry (memcached cannot list keys).
 * `ORDER BY random()` reads the whole table: fine for the audit's small samples of tables of
 * thousands of rows; a large table would use TABLESAMPLE instead.
 */
export async function sampleRowIds(
  db: { $queryRawUnsafe(query: string, ...values: unknown[]): Promise<unknown> },
  table: string,
  count: number,
): Promise<string[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new TypeError(`not a plain table name: ${table}`);
  const rows = (await db.$queryRawUnsafe(
    `(SELECT "id"::text AS "id" FROM "${table}" ORDER BY random() LIMIT $1::int)
     UNION
     (SELECT (1 + floor(random() * m."maxId"))::bigint::text
        FROM (SELECT coalesce(max("id"), 0) AS "maxId" FROM "${table}") m, generate_series(1, $2::int)
       WHERE m."maxId" > 0)`,
    count,
    Math.max(1, Math.ceil(count / 4)),
  )) as Array<{ id: string }>;
  return rows.map((r) => r.id);
}
