/** Access-log settings: the filter language shared by the API's validator and the sidecar. */
export { compileFilter, FILTER_ATTRIBUTES, type AccessAttributes, type CompiledFilter } from './filter.js';
