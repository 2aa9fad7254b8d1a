// The browser entry's backends: reference and meta; the default is reference. Importing this file
// fills the default-backend slot (slot.ts).
import { metaBackend } from './meta';
import { referenceBackend } from './reference';
import { registerBackend, setDefaultBackendChooser } from './slot';

registerBackend('reference', referenceBackend);
registerBackend('meta', metaBackend);
setDefaultBackendChooser(() => referenceBackend);
