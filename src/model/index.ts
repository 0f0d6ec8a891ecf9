// The model layer's public API (runtime-free: safe for browser and edge bundles). Files on disk
// (checkpoint folders, tokenizer folders) are in ./checkpoint.ts, which needs node:fs.
export {
  parseHfConfig, toHfConfig, ropeInvFreq, ropeTables, parameterSpecs, checkWeights, ModelConfigError,
  type ArchConfig, type RopeScaling, type ParamSpec, type WeightTensor, type Weights,
} from "./config.js";
export {
  readSafetensors, writeSafetensors, toFloat32, halfToFloat, floatToHalf, bf16ToFloat, floatToBf16, SafetensorsError,
  type SafeDtype, type SafeTensor, type SafetensorsFile, type TensorToWrite,
} from "./safetensors.js";
export { TextTokenizer, TokenizerError, closedVocabTokenizer, CLOSED_VOCAB_CHAT_TEMPLATE, type ChatMessage, type ClosedVocabSpec } from "./tokenizer.js";
export { modelFromFiles, weightsFromSafetensors, type ModelFiles } from "./files.js";
