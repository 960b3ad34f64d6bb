/**
 * The search domain's monthly cost rows (pure): instance hours per data node and each node's gp3
 * volume, from data/other-prices-us-east-1.tsv (Amazon OpenSearch Service prices; estimates).
 */
import type { SearchConfig } from "./config";
import type { CostRowInput, PriceUnit } from "../report/prices";

export function searchCostRows(
  search: SearchConfig,
  price: (item: string) => { readonly usd: number; readonly unit: PriceUnit; readonly derived: boolean },
  source: string,
): CostRowInput[] {
  const node = price(`opensearch:${search.instanceType}`);
  const storage = price("opensearch:gp3");
  const volumes = search.nodes * search.volumeGiB;
  return [
    {
      component: "search",
      resource: `OpenSearch ${search.instanceType}`,
      quantityDesired: search.nodes,
      quantityMax: search.nodes,
      unitPrice: node.usd,
      unit: "hour",
      source,
      estimated: true,
      ...(node.derived && { note: "derived from a listed size of the same family" }),
    },
    {
      component: "search",
      resource: `gp3 ${search.volumeGiB} GiB x ${search.nodes} node(s)`,
      quantityDesired: volumes,
      quantityMax: volumes,
      unitPrice: storage.usd,
      unit: "gb-month",
      source,
      estimated: true,
    },
  ];
}
