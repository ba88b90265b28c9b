// The schema lives with the IPC contract, which the renderer shares; the registry validates
// what it stores with the very same schema.
export { ModelLoadSettings } from '../../../common/contract/models.ts';
