/** The first argument of `T[K]` when it is a method, the id a read asks for. */
type ReadArgument<T, K extends keyof T> = T[K] extends (id: infer A, ...rest: never[]) => unknown ? A : never;

/**
 * `target` as it is, except that every call of `method` first records its first argument (the id
 * read) in `ids`: how a test sees which rows an event consumer went back to the database for.
 * The other methods are bound to `target`, so classes with private fields keep working.
 */
export function withRecordedReads<T extends object, K extends keyof T>(
  target: T,
  method: K,
  ids: Array<ReadArgument<T, K>>,
): T {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(object);
      return (...args: unknown[]) => {
        ids.push(args[0] as ReadArgument<T, K>);
        return value.apply(object, args);
      };
    },
  });
}
