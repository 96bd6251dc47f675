// The public names of @orgmfa/render, module by module (no export *).
export {
  type AsffContext,
  type AsffFinding,
  archivedAsff,
  asffContentHash,
  asffFindings,
  CONTENT_HASH_FIELD,
  CUSTOMER_OWNED_ASFF_FIELDS,
  defaultProductArn,
  findingsToArchive,
  GENERATOR_PREFIX,
  importAccount,
  type StoredAsffFinding,
  toAsff,
} from "./asff";
export {
  buildChatDigest,
  CHAT_DESCRIPTION_MAX_CHARS,
  CHAT_THREAD_BY,
  type ChatDigestOptions,
  type ChatMessage,
  type ChatNotification,
  type ChatThreadBy,
  chatText,
} from "./chat";
export {
  accountsCsv,
  accountsCsvChunks,
  findingsCsv,
  findingsCsvChunks,
  safeCell,
  usersCsv,
  usersCsvChunks,
} from "./csv";
export {
  type AccountMessage,
  accountMessages,
  buildDigest,
  type Digest,
  type DigestOptions,
  digestSubject,
  SNS_MAX_BYTES,
  section,
  shrinkToFit,
  snsSubject,
} from "./digest";
export {
  buildManifest,
  digested,
  type FileDigest,
  type Manifest,
  manifestJson,
  REPORT_FILE_NAMES,
  reportFileChunks,
  reportFiles,
  reportJsonChunks,
  scanFiles,
  sha256Hex,
  writeScanDir,
} from "./files";
export { barChart, htmlChunks, renderHtml } from "./html";
export { OCSF_PROFILES, OCSF_VERSION, type OcsfContext, ocsfStandards, renderOcsf, toOcsf } from "./ocsf";
export { accountOf, userOf } from "./report-index";
