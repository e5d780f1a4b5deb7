// A logger that writes nothing: the default when no logger is given (tests, embedding).

import type { Logger } from '@peapod/client';

const ignore = (): void => undefined;

export const silentLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
