export * from './resample';
export * from './tiles';
export * from './upscale';
export * from './refine';
export * from './full-resolution';
