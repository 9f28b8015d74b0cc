// Package identity mints the certificates of county staff: officers who
// record, auditors who read, admins who administer. cryptogen makes only node
// and Admin@ identities and cannot add attributes, and the Fabric CA is not
// available here, so a county that holds its CA key issues its own staff
// certificates with this package.
//
// An issued certificate is an ECDSA P-256 X.509 certificate signed by the
// county CA, with
//
//   - Subject CN = the enrollment name, OU = "client" (the Fabric NodeOU that
//     makes it a client identity), O = the county's MSP ID;
//   - the Fabric CA attribute extension, OID 1.2.3.4.5.6.7.8.1, whose value
//     is the JSON {"attrs":{"role":…,"dept":…,"hf.EnrollmentID":…}} that
//     chaincode reads with cid.GetAttributeValue.
//
// It is written as a Fabric MSP folder: signcerts/, keystore/priv_sk,
// cacerts/, tlscacerts/ and config.yaml enabling NodeOUs, the same layout
// cryptogen writes, so the peer CLI and fabric-gateway clients load it as is.
//
// Roles are officer, auditor and admin (DESIGN §4); a department code
// matches ^[a-z][a-z0-9-]{1,31}$ and is required for officers.
package identity
