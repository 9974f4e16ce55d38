// The join on real data: nDPI's own verdicts for captures with IPv4, IPv6 (including nDPI's
// "2600:1901::7a0b::" spelling) and reused 5-tuples, extracted with nDPI's flow boundaries.
import t from 'tap';
import { join } from 'node:path';
import { canonicalAddress } from '../../agent/label/address.js';
import { loadCategories } from '../../agent/label/categories.js';
import { loadFlowLabels } from '../../agent/label/flow-labels.js';
import { Labeler } from '../../agent/label/labeler.js';
import { DEFAULT_METER, extractFile } from '../../agent/flows/extract-file.js';
import { FEATURE_NAMES } from '../../agent/features/registry.js';
import { DEFAULT_CATEGORIES } from '../../agent/commands/label.js';
import { haveNdpiData, NDPI_DIR, NDPI_FLOW_RULES } from '../../scripts/models/ndpi-flows.js';

const CAPTURES = ['pinterest.pcap', 'stun.pcap', 'netflix.pcap', 'whatsapp_login_call.pcap'];
const PK = [FEATURE_NAMES.indexOf('src2dst_packets'), FEATURE_NAMES.indexOf('dst2src_packets')] as const;

t.test('nDPI verdicts join our flows', { skip: haveNdpiData() ? false : `${NDPI_DIR} is absent` }, async (t) => {
  const index = await loadFlowLabels(join(NDPI_DIR, 'labels.csv'));
  const labeler = new Labeler({ flows: index, categories: await loadCategories(DEFAULT_CATEGORIES) });
  const apps = new Map<string, string[]>();
  for (const cap of CAPTURES) {
    const { flows } = await extractFile(join(NDPI_DIR, 'pcap', cap), { ...DEFAULT_METER, ...NDPI_FLOW_RULES });
    const got: string[] = [];
    for (const f of flows) {
      const r = labeler.label({
        pcap: cap, proto: f.proto, srcIp: canonicalAddress(f.srcIp)!, srcPort: f.srcPort, dstIp: canonicalAddress(f.dstIp)!,
        dstPort: f.dstPort, sni: f.meta?.sni ?? '', pktsFwd: f.features[PK[0]]!, pktsRev: f.features[PK[1]]!,
      });
      if (r.labeled) got.push(r.app);
    }
    apps.set(cap, got);
  }
  const s = labeler.stats;
  t.ok(s.labeled / s.flows >= 0.95, `${s.labeled} of ${s.flows} flows labelled`);
  t.ok(s.byFlows.exact / s.labeled >= 0.95, `${s.byFlows.exact} with nDPI's packet counts exactly`);
  t.equal(apps.get('pinterest.pcap')!.filter((a) => a === 'Pinterest').length, 9, 'all nine flows nDPI calls Pinterest, IPv6 and NAT64 ones included');
  t.ok(apps.get('stun.pcap')!.length > 0, 'stun.pcap (nDPI writes 2600:1900:4160:5999::19::)');
  t.equal(apps.get('netflix.pcap')!.filter((a) => a === 'NetFlix').length, 38);
  t.ok(apps.get('whatsapp_login_call.pcap')!.includes('WhatsAppCall'));
});
