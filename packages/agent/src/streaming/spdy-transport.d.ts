// The one part of spdy-transport we use (it ships no types): the SPDY header dictionaries.
declare module 'spdy-transport' {
  const transport: { protocol: { spdy: { dictionary: Record<number, Buffer> } } };
  export default transport;
}
