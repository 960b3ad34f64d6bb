/**
 * The block list's addresses as AWS WAF takes them in an IP set (pure): CIDR notation, IPv4 or IPv6,
 * any prefix but /0 (AWS WAF API Reference, IPSet: "AWS WAF supports all IPv4 and IPv6 CIDR ranges
 * except for /0"), one IP set per version (IPAddressVersion IPV4 | IPV6). The package also asks for
 * the network address (no bits set past the prefix), as it does of network.cidr, so a typo such as
 * 203.0.113.7/24 is caught rather than read as 203.0.113.0/24.
 */
import { isIPv4, isIPv6 } from "net";

export type IpVersion = "ipv4" | "ipv6";

export interface ParsedCidr {
  readonly version: IpVersion;
  readonly prefix: number;
  /** The address as a number (IPv6 as a bigint's worth, in a bigint). */
  readonly base: bigint;
}

function ipv6Value(address: string): bigint {
  // Expand "::" into the missing groups; an embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = (v4[1] as string).split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** A CIDR AWS WAF accepts, or undefined. */
export function parseCidr(value: string): ParsedCidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(value);
  if (!m) return undefined;
  const address = m[1] as string;
  const prefix = Number(m[2]);
  if (isIPv4(address) && prefix >= 1 && prefix <= 32)
    return {
      version: "ipv4",
      prefix,
      base: address.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n),
    };
  if (isIPv6(address) && prefix >= 1 && prefix <= 128)
    return { version: "ipv6", prefix, base: ipv6Value(address) };
  return undefined;
}

/** Whether no bit is set past the prefix (203.0.113.0/24, not 203.0.113.7/24). */
export function isNetworkAddress(cidr: ParsedCidr): boolean {
  const bits = BigInt(cidr.version === "ipv4" ? 32 : 128);
  const host = (1n << (bits - BigInt(cidr.prefix))) - 1n;
  return (cidr.base & host) === 0n;
}

/** Why `value` cannot be a block list entry, as a phrase that reads on from the value; none when it can. */
export function blockListProblem(value: string): string | undefined {
  const cidr = parseCidr(value);
  if (!cidr)
    return "is not an IPv4 or IPv6 address range in CIDR notation from /1 (AWS WAF takes no /0); write a single address as 203.0.113.7/32 or 2001:db8::7/128";
  if (!isNetworkAddress(cidr))
    return `has bits set past its /${cidr.prefix} prefix; write the range's network address`;
  return undefined;
}
