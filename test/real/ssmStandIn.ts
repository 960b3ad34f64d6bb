/**
 * `aws ssm get-parameters` as SSM answers it (AWS Systems Manager API Reference, GetParameters): the
 * names after --names, at most 10 (more is a ValidationException, exit 254, as the CLI exits on a
 * client error), values only with --with-decryption; the names SSM does not have come back in
 * InvalidParameters, not as an error. A Python program for the tests' `aws` stand-ins to run as
 * `python3 FILE PARAMETERS.json ARG...` (ARG... the CLI's own arguments after `aws`), where
 * PARAMETERS.json holds {"Parameters": [{"Name", "Value"}, ...]}.
 */
export const SSM_GET_PARAMETERS_PY = `import json, sys
known = {p["Name"]: p["Value"] for p in json.load(open(sys.argv[1]))["Parameters"]}
args = sys.argv[2:]
names = []
if "--names" in args:
    for a in args[args.index("--names") + 1:]:
        if a.startswith("--"):
            break
        names.append(a)
if args[:2] != ["ssm", "get-parameters"] or not names:
    sys.exit("stand-in: not a get-parameters with --names: %s" % args)
if len(names) > 10:
    sys.stderr.write("\\nAn error occurred (ValidationException) when calling the GetParameters operation: "
                     "1 validation error detected: Value at 'names' failed to satisfy constraint: "
                     "Member must have length less than or equal to 10\\n")
    sys.exit(254)
if "--with-decryption" not in args:
    sys.exit("stand-in: SecureStrings without --with-decryption would be ciphertext")
print(json.dumps({
    "Parameters": [{"Name": n, "Value": known[n], "Type": "SecureString", "Version": 1} for n in names if n in known],
    "InvalidParameters": [n for n in names if n not in known],
}))
`;
