import { registerHooks } from 'node:module';

// `node --import ./e2e/stand-ins/register-electron-stand-in.ts …`: makes `import … from
// 'electron'` load the recording stand-in (electron-stand-in.ts) instead of Electron's npm
// package, whose entry would try to find, or download, the binary. Only in that process.

const standIn = new URL('./electron-stand-in.ts', import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === 'electron') return { url: standIn, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});
