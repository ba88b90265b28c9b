// Signed offline bundles: the API the CLI and the UI build on. See docs/bundles.md.
export { canonicalJson, CanonicalJsonError } from './canonical.ts';
export { generateKeyPair, keyIdOf, type BundleSignature, type GeneratedKeyPair } from './keys.ts';
export { bundleKinds, type BundleKind, type FileMeta, type Manifest, type ManifestFile } from './manifest.ts';
export { bundleRejections, type BundleRejection, type Rejection } from './rejections.ts';
export {
  addTrustedKey,
  listTrustedKeys,
  localTrustSource,
  removeTrustedKey,
  type Signer,
  type StoredTrustedKey,
  type TrustedKey,
  type TrustSource,
} from './trust.ts';
export { DEFAULT_LIMITS, type BundleLimits } from './archive.ts';
export {
  createBundle,
  inspectBundle,
  packBundle,
  signBundle,
  type BundleHead,
  type CreateBundleFile,
  type CreateBundleOptions,
  type CreateProgress,
} from './create.ts';
export { verifyBundle, type BundleProgress, type VerificationReport, type VerifiedBundle, type VerifyOptions } from './verify.ts';
export {
  bundleDir,
  cleanupBundles,
  installBundle,
  uninstallBundle,
  type CleanupReport,
  type Installer,
  type InstallOptions,
  type InstallOutcome,
  type Uninstaller,
} from './install.ts';
export { getBundle, listBundles, pageBundles, type InstalledBundle, type InstalledFile } from './store.ts';
export { readHead, type HeadReading } from './head.ts';
