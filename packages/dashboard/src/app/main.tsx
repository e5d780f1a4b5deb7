// The page's entry: start the watches, render the app into the shell index.html painted.

import { render } from 'preact';
import { App } from './App';
import { Live } from './live';
import { pageTransport } from './transport';

const live = new Live(pageTransport);
live.start();
const root = document.getElementById('app') as HTMLElement;
// The shell's placeholder header painted before the script ran; the app replaces it.
root.textContent = '';
render(<App live={live} />, root);
