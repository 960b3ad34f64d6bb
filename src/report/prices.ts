/**
 * The dated, cited price tables the monthly cost estimate reads, and the row every part's cost
 * rows are written as (pure). EC2 from data/ec2-c-family-prices-us-east-1.tsv (stamped
 * 2026-07-20), everything else from data/other-prices-us-east-1.tsv (2026-11-22, third-party,
 * partly derived: estimates). It sits below the parts' cost modules (fleet, database, redis,
 * search, edge, network, monitoring) and the estimate that assembles them (./cost.ts).
 */
import { dataLines } from "../vocabulary/data";

export const HOURS_PER_MONTH = 730;
export const PRICE_DATE = "2026-11-22";
export const PRICE_REGION = "us-east-1";
export const EC2_SOURCE =
  "data/ec2-c-family-prices-us-east-1.tsv (karpenter-provider-aws generated table, 2026-07-20)";
export const OTHER_SOURCE = "data/other-prices-us-east-1.tsv (third-party tables, 2026-11-22; estimates)";

export interface OtherPrice {
  readonly usd: number;
  readonly unit: PriceUnit;
  readonly derived: boolean;
}

function readOtherPrices(): Map<string, OtherPrice> {
  const prices = new Map<string, OtherPrice>();
  for (const line of dataLines("other-prices-us-east-1.tsv")) {
    if (line.startsWith("item\t")) continue;
    const [item, unit, usd, basis] = line.split("\t");
    if (item && unit && usd)
      prices.set(item, {
        usd: Number(usd),
        unit: unit as OtherPrice["unit"],
        derived: (basis ?? "").startsWith("derived"),
      });
  }
  return prices;
}
const OTHER_PRICES = readOtherPrices();

/** An item's price in data/other-prices-us-east-1.tsv; a missing item is an error, not a zero. */
export const otherPrice = (item: string): OtherPrice => {
  const price = OTHER_PRICES.get(item);
  if (!price)
    throw new Error(`no price for ${item} in data/other-prices-us-east-1.tsv; add a row (with its source)`);
  return price;
};

/** What a price is per: an hour, a GB-month, or a month (per item). */
export type PriceUnit = "hour" | "gb-month" | "month";

/** How a unit is written after a price. */
export const PRICE_UNITS: Readonly<Record<PriceUnit, string>> = {
  hour: "h",
  "gb-month": "GB-mo",
  month: "mo",
};

export interface CostRow {
  readonly component: string;
  readonly resource: string;
  readonly quantityDesired: number;
  readonly quantityMax: number;
  readonly unitPrice: number;
  readonly unit: PriceUnit;
  readonly monthlyDesired: number;
  readonly monthlyMax: number;
  readonly source: string;
  readonly estimated: boolean;
  readonly note?: string;
}

/** A row as a part writes it: the estimate works out the monthly sums (and flags other regions). */
export type CostRowInput = Omit<CostRow, "monthlyDesired" | "monthlyMax">;
