/**
 * The bench builds its SD-shaped graphs with the project's one ONNX graph builder (test/models/graph-builder.ts).
 */
export { createGraphBuilder, PROOF_OPSET as BENCH_OPSET } from '../../test/models/graph-builder';
export type { AttrValue, GraphBuilder, GraphDim, GraphDType } from '../../test/models/graph-builder';
