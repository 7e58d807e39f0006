export { startListWatch, type FetchLike, type ListWatchOptions, type WatchedType } from './list-watch.js';
