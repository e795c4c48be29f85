export { Encrypter, type EncrypterOptions } from './encrypter.js';
export { appKeys, EncryptionProvider } from './encryption-provider.js';
export type { OpenOptions, SealOptions } from './envelope.js';
export * from './errors.js';
export { type AppKeySources, type AppKeys, deriveKey, readAppKeys } from './key-ring.js';
export { Signer, type SignerOptions } from './signer.js';
