import StewardJSON

/// One attribute definition (RFC 7643 §2.2, §7). The schema drives everything the provider
/// does with data: input checking, name resolution in filters and PATCH paths, comparison
/// rules, what is returned, and the `/Schemas` endpoint.
struct SCIMAttribute: Sendable {
    enum DataType: String, Sendable { case string, boolean, decimal, integer, dateTime, reference, binary, complex }
    enum Mutability: String, Sendable { case readOnly, readWrite, immutable, writeOnly }
    enum Returned: String, Sendable { case always, never, `default`, request }
    enum Uniqueness: String, Sendable { case none, server, global }

    var name: String
    var type: DataType
    var multiValued = false
    var description = ""
    var required = false
    var caseExact = false
    var mutability = Mutability.readWrite
    var returned = Returned.default
    var uniqueness = Uniqueness.none
    var canonicalValues: [String] = []
    var referenceTypes: [String] = []
    var subAttributes: [SCIMAttribute] = []

    func subAttribute(named name: some StringProtocol) -> SCIMAttribute? {
        subAttributes.first { $0.name.lowercased() == name.lowercased() }
    }

    var isComplex: Bool { type == .complex }

    /// The attribute as `/Schemas` describes it.
    var definition: JSONValue {
        var out: [String: JSONValue] = [
            "name": .string(name), "type": .string(type.rawValue), "multiValued": .bool(multiValued),
            "description": .string(description), "required": .bool(required), "mutability": .string(mutability.rawValue),
            "returned": .string(returned.rawValue),
        ]
        if type != .complex, type != .boolean {
            out["caseExact"] = .bool(caseExact)
            out["uniqueness"] = .string(uniqueness.rawValue)
        }
        if !canonicalValues.isEmpty { out["canonicalValues"] = .array(canonicalValues.map { .string($0) }) }
        if !referenceTypes.isEmpty { out["referenceTypes"] = .array(referenceTypes.map { .string($0) }) }
        if !subAttributes.isEmpty { out["subAttributes"] = .array(subAttributes.map(\.definition)) }
        return .object(out)
    }
}

/// A schema: a URN and its attributes.
struct SCIMSchema: Sendable {
    var id: String
    var name: String
    var description: String
    var attributes: [SCIMAttribute]

    func attribute(named name: some StringProtocol) -> SCIMAttribute? {
        let lowered = name.lowercased()
        return attributes.first { $0.name.lowercased() == lowered }
    }

    func definition(location: String) -> JSONValue {
        [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": .string(id), "name": .string(name), "description": .string(description),
            "attributes": .array(attributes.map(\.definition)),
            "meta": ["resourceType": "Schema", "location": .string(location)],
        ]
    }
}

/// A resource type: its endpoint, core schema and extensions (RFC 7643 §6).
struct SCIMResourceType: Sendable {
    var name: String
    var endpoint: String
    var description: String
    var schema: SCIMSchema
    var extensions: [SCIMSchema]

    /// The extension whose URN is `urn`, ignoring case.
    func extensionSchema(_ urn: some StringProtocol) -> SCIMSchema? {
        let lowered = urn.lowercased()
        return extensions.first { $0.id.lowercased() == lowered }
    }

    func definition(location: String) -> JSONValue {
        [
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": .string(name), "name": .string(name), "endpoint": .string(endpoint),
            "description": .string(description), "schema": .string(schema.id),
            "schemaExtensions": .array(extensions.map { ["schema": .string($0.id), "required": false] }),
            "meta": ["resourceType": "ResourceType", "location": .string(location)],
        ]
    }
}

/// The definitions this provider serves: RFC 7643 §4 and §8.7.
enum SCIMSchemas {
    static let userURN = "urn:ietf:params:scim:schemas:core:2.0:User"
    static let groupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
    static let enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    static let activityURN = "urn:steward:params:scim:schemas:extension:sandbox-activity:2.0:User"
    static let listResponseURN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    static let patchOpURN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    static let searchRequestURN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
    static let errorURN = "urn:ietf:params:scim:api:messages:2.0:Error"

    /// `id`, `externalId` and `meta`: part of every resource, declared by no schema (§3.1).
    static let common: [SCIMAttribute] = [
        SCIMAttribute(name: "id", type: .string, description: "Unique identifier assigned by the service provider.",
                      caseExact: true, mutability: .readOnly, returned: .always, uniqueness: .server),
        SCIMAttribute(name: "externalId", type: .string, description: "Identifier assigned by the provisioning client.",
                      caseExact: true),
        SCIMAttribute(name: "meta", type: .complex, description: "Resource metadata.", mutability: .readOnly, subAttributes: [
            SCIMAttribute(name: "resourceType", type: .string, caseExact: true, mutability: .readOnly),
            SCIMAttribute(name: "created", type: .dateTime, mutability: .readOnly),
            SCIMAttribute(name: "lastModified", type: .dateTime, mutability: .readOnly),
            SCIMAttribute(name: "location", type: .reference, caseExact: true, mutability: .readOnly, referenceTypes: ["uri"]),
            SCIMAttribute(name: "version", type: .string, caseExact: true, mutability: .readOnly),
        ]),
    ]

    static let schemasAttribute = SCIMAttribute(
        name: "schemas", type: .reference, multiValued: true, caseExact: true, returned: .always, referenceTypes: ["uri"])

    static func string(_ name: String, _ description: String, caseExact: Bool = false, canonical: [String] = []) -> SCIMAttribute {
        SCIMAttribute(name: name, type: .string, description: description, caseExact: caseExact, canonicalValues: canonical)
    }

    /// The shape shared by emails, phone numbers, roles, entitlements and the like.
    static func multiValued(
        _ name: String, _ description: String, types: [String], valueType: SCIMAttribute.DataType = .string,
        referenceTypes: [String] = []
    ) -> SCIMAttribute {
        SCIMAttribute(name: name, type: .complex, multiValued: true, description: description, subAttributes: [
            SCIMAttribute(name: "value", type: valueType, description: "The value.", referenceTypes: referenceTypes),
            string("display", "A human-readable name, primarily used for display purposes."),
            string("type", "A label indicating the attribute's function.", canonical: types),
            SCIMAttribute(name: "primary", type: .boolean, description: "Whether this is the primary value."),
        ])
    }

    static let user = SCIMSchema(id: userURN, name: "User", description: "User Account", attributes: [
        SCIMAttribute(name: "userName", type: .string, description: "Unique identifier for the User, used to authenticate.",
                      required: true, uniqueness: .server),
        SCIMAttribute(name: "name", type: .complex, description: "The components of the user's real name.", subAttributes: [
            string("formatted", "The full name, formatted for display."),
            string("familyName", "The family name."),
            string("givenName", "The given name."),
            string("middleName", "The middle name(s)."),
            string("honorificPrefix", "The honorific prefix(es)."),
            string("honorificSuffix", "The honorific suffix(es)."),
        ]),
        string("displayName", "The name of the User, suitable for display to end-users."),
        string("nickName", "The casual way to address the user."),
        SCIMAttribute(name: "profileUrl", type: .reference, description: "A URI of the User's online profile.", referenceTypes: ["external"]),
        string("title", "The user's title, such as \"Vice President\"."),
        string("userType", "The relationship between the organization and the user."),
        string("preferredLanguage", "The User's preferred written or spoken language."),
        string("locale", "The User's default location for localization."),
        string("timezone", "The User's time zone in IANA format."),
        SCIMAttribute(name: "active", type: .boolean, description: "The User's administrative status."),
        SCIMAttribute(name: "password", type: .string, description: "The User's cleartext password; never returned.",
                      mutability: .writeOnly, returned: .never),
        multiValued("emails", "Email addresses for the user.", types: ["work", "home", "other"]),
        multiValued("phoneNumbers", "Phone numbers for the User.", types: ["work", "home", "mobile", "fax", "pager", "other"]),
        multiValued("ims", "Instant messaging addresses for the User.", types: ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        multiValued("photos", "URLs of photos of the User.", types: ["photo", "thumbnail"], valueType: .reference, referenceTypes: ["external"]),
        SCIMAttribute(name: "addresses", type: .complex, multiValued: true, description: "A physical mailing address for this User.", subAttributes: [
            string("formatted", "The full mailing address, formatted for display."),
            string("streetAddress", "The full street address component."),
            string("locality", "The city or locality component."),
            string("region", "The state or region component."),
            string("postalCode", "The zip code or postal code component."),
            string("country", "The country name component."),
            string("type", "A label indicating the attribute's function.", canonical: ["work", "home", "other"]),
            SCIMAttribute(name: "primary", type: .boolean, description: "Whether this is the primary address."),
        ]),
        SCIMAttribute(name: "groups", type: .complex, multiValued: true,
                      description: "Groups the user belongs to, through direct membership. Read-only; change membership on the Group.",
                      mutability: .readOnly, subAttributes: [
            SCIMAttribute(name: "value", type: .string, description: "The identifier of the Group.", mutability: .readOnly),
            SCIMAttribute(name: "$ref", type: .reference, description: "The URI of the Group.", mutability: .readOnly,
                          referenceTypes: ["User", "Group"]),
            SCIMAttribute(name: "display", type: .string, description: "The Group's displayName.", mutability: .readOnly),
            SCIMAttribute(name: "type", type: .string, description: "How the membership was derived.", mutability: .readOnly,
                          canonicalValues: ["direct", "indirect"]),
        ]),
        multiValued("entitlements", "Entitlements for the User.", types: []),
        multiValued("roles", "Roles for the User.", types: []),
        multiValued("x509Certificates", "Certificates issued to the User.", types: [], valueType: .binary),
    ])

    static let enterpriseUser = SCIMSchema(id: enterpriseURN, name: "EnterpriseUser", description: "Enterprise User", attributes: [
        string("employeeNumber", "Numeric or alphanumeric identifier assigned to a person by the organization."),
        string("costCenter", "Identifies the name of a cost center."),
        string("organization", "Identifies the name of an organization."),
        string("division", "Identifies the name of a division."),
        string("department", "Identifies the name of a department."),
        SCIMAttribute(name: "manager", type: .complex, description: "The User's manager.", subAttributes: [
            SCIMAttribute(name: "value", type: .string, description: "The id of the SCIM resource representing the manager."),
            SCIMAttribute(name: "$ref", type: .reference, description: "The URI of the manager's resource.", referenceTypes: ["User"]),
            SCIMAttribute(name: "displayName", type: .string, description: "The displayName of the manager.", mutability: .readOnly),
        ]),
    ])

    /// Sign-in activity, as many providers expose it in an extension of their own (no standard
    /// schema has it): what `steward discover` finds dormant seats with.
    static let activity = SCIMSchema(id: activityURN, name: "Activity", description: "Sign-in activity (sandbox extension)", attributes: [
        SCIMAttribute(name: "lastLoginAt", type: .dateTime, description: "When the user last signed in."),
    ])

    static let group = SCIMSchema(id: groupURN, name: "Group", description: "Group", attributes: [
        SCIMAttribute(name: "displayName", type: .string, description: "A human-readable name for the Group.", required: true),
        SCIMAttribute(name: "members", type: .complex, multiValued: true, description: "A list of members of the Group.", subAttributes: [
            SCIMAttribute(name: "value", type: .string, description: "Identifier of the member.", caseExact: true, mutability: .immutable),
            SCIMAttribute(name: "$ref", type: .reference, description: "The URI of the member.", mutability: .immutable,
                          referenceTypes: ["User", "Group"]),
            SCIMAttribute(name: "display", type: .string, description: "The member's display name.", mutability: .readOnly),
            SCIMAttribute(name: "type", type: .string, description: "The type of the member.", mutability: .immutable,
                          canonicalValues: ["User", "Group"]),
        ]),
    ])

    static let userType = SCIMResourceType(
        name: "User", endpoint: "/Users", description: "User Account", schema: user, extensions: [enterpriseUser, activity])
    static let groupType = SCIMResourceType(
        name: "Group", endpoint: "/Groups", description: "Group", schema: group, extensions: [])

    static let all: [SCIMSchema] = [user, enterpriseUser, activity, group]
}
