/**
 * The dashboard's icon: three linked nodes.
 *
 * @example
 * ```ts
 * import { FAVICON_SVG } from "./favicon_svg.ts";
 * new Response(FAVICON_SVG, { headers: { "content-type": "image/svg+xml" } });
 * ```
 * @module
 */

/** The icon (SVG). */
export const FAVICON_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><g stroke="#2f7d4f" stroke-width="3"><line x1="8" y1="24" x2="16" y2="8"/><line x1="16" y1="8" x2="24" y2="24"/><line x1="8" y1="24" x2="24" y2="24"/></g><g fill="#f0b429"><circle cx="16" cy="8" r="5"/><circle cx="8" cy="24" r="5"/><circle cx="24" cy="24" r="5"/></g></svg>
`;
