import { deletePath, parsePath } from './paths';

test('parses dotted and indexed steps', () => {
  expect(parsePath('.spec.containers[0].imagePullPolice')).toEqual(['spec', 'containers', 0, 'imagePullPolice']);
});

test('deletes a nested field and ignores a missing one', () => {
  const obj = { spec: { containers: [{ name: 'a', bogus: 1 }] } };
  deletePath(obj, '.spec.containers[0].bogus');
  deletePath(obj, '.spec.nothing.here');
  expect(obj).toEqual({ spec: { containers: [{ name: 'a' }] } });
});
