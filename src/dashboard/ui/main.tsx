/** Entry of the bundle (app.js, app.css): mounts the page on #app. */
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
