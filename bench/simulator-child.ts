/**
 * Child process of benchHttp(): the WhatsApp simulator in a process of its own, as a real provider
 * is, so neither the engine nor the raw baseline pays for the server side of the requests.
 * Options come in BENCH_SIMULATOR (JSON); the base URL goes to the parent as the first IPC message,
 * and the parent drives it through the simulator's /__simulator/ control paths.
 */
import { startWhatsAppSimulator } from '@rebound/simulators';

const sim = await startWhatsAppSimulator(JSON.parse(process.env.BENCH_SIMULATOR ?? '{}'));
process.send?.({ baseUrl: sim.baseUrl });
// The parent going away (even killed) closes the IPC channel: nothing is left listening.
process.on('disconnect', () => void sim.stop().then(() => process.exit(0)));
