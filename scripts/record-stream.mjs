// Records a live guest's outgoing migration stream to a file (QMP migrate to exec:cat), then resumes the guest.
// Usage: node scripts/record-stream.mjs QMP_SOCKET OUT_FILE   (boot the guest with `mecom guest boot`)
import { QmpClient } from '../dist/src/qemu/qmp.js';
const [qmpPath, out] = process.argv.slice(2);
const q = await QmpClient.connect(qmpPath, { timeoutMs: 5000 });
await q.execute('migrate-set-parameters', { 'max-bandwidth': 1e12 });
await q.execute('migrate', { uri: `exec:cat > ${out}` });
for (;;) { const i = await q.execute('query-migrate'); if (i.status === 'completed' || i.status === 'failed') { console.log(JSON.stringify(i)); break; } await new Promise(r => setTimeout(r, 100)); }
await q.execute('cont'); q.close();
