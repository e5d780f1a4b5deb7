import { againWhileKubectlDropped, droppedByKubectl } from './kubectl-race';

const dropped = 'E1205 20:15:48.171086    3143 websocket.go:296] Unknown stream id 1, discarding message\ncommand terminated with exit code 2\n';

test('kubectl saying it discarded a message counts as dropped output; other errors do not', () => {
  expect(droppedByKubectl(dropped)).toBe(true);
  expect(droppedByKubectl('command terminated with exit code 2\n')).toBe(false);
  expect(droppedByKubectl('')).toBe(false);
});

test('an exec runs again while kubectl dropped its output, at most twice more', async () => {
  const answers = [dropped, dropped, '', ''];
  let runs = 0;
  const once = async (): Promise<{ stderr: string; run: number }> => ({ stderr: answers[runs], run: ++runs });
  expect(await againWhileKubectlDropped(once)).toEqual({ stderr: '', run: 3 });

  runs = 0;
  const always = async (): Promise<{ stderr: string }> => {
    runs++;
    return { stderr: dropped };
  };
  expect(droppedByKubectl((await againWhileKubectlDropped(always)).stderr)).toBe(true);
  expect(runs).toBe(3);

  runs = 0;
  await againWhileKubectlDropped(async () => ({ stderr: `${++runs}` }));
  expect(runs).toBe(1);
});
