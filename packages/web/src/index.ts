/**
 * @si/web: the client party in a browser (classifyWithService), and the page (page/, bundled by
 * scripts/bundle.mjs) that `si serve --web` serves.
 * @module
 */
export { classifyWithService, WEB_MODELS, type ServiceConfig, type WebProgress, type WebResult } from './client.ts';
