/**
 * ui/core/raster — a pure-JS anti-aliased 2D rasteriser (SVG path data, NONZERO / EVENODD fills, strokes,
 * affine transforms, feathering, image drawing). No DOM: runs in Node, workers and the UI alike.
 */
export * from './affine';
export * from './path-data';
export * from './flatten-path';
export * from './coverage';
export * from './stroke-polylines';
export * from './feather';
export * from './canvas';
export * from './rasterize-mask';
