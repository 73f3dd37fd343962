import MartletStore
import NostrCore

/// NIP-29's rules for every event about a group, checked and applied before the event is
/// stored (an `IngestHook`): the `h` tag, late publication and `previous` references,
/// who may moderate, join with or without a code, leave, and write to a restricted group.
///
/// Every check reads the store, never this node's copy, so that a change made on another
/// node holds here at once. A refusal has changed nothing; an accepted moderation event has
/// made its change, and the relay has published the new state (39000-39003), before the
/// author reads `OK true`.
struct GroupModeration: IngestHook {
    let groups: Groups

    /// The newest events of a group a `previous` reference may name (NIP-29: "any event in
    /// the last 50 events seen by the user"; a user may have seen more than the last 50).
    static let previousWindow = 500
    /// References one event may carry.
    static let maxPrevious = 50

    func willAccept(_ event: Event, context: WriteContext) async -> RejectReason? {
        if GroupKind.relaySigned.contains(event.kind.rawValue) {
            // "They MUST be created by the relay master key only".
            return event.pubkey == groups.identity.publicKey
                ? nil : .restricted("group metadata (kinds 39000-39009) is signed by this relay only")
        }
        let named = event.tags.values(named: "h")
        guard let id = named.first else {
            // "Events sent by users to groups ... MUST have an h tag".
            return GroupKind.requiresGroup(event.kind) ? .invalid("a group event needs an h tag naming its group") : nil
        }
        if Set(named).count > 1 { return .invalid("an event belongs to one group: give one h tag") }
        guard GroupNames.isValidID(id) else {
            return .invalid("a group id is 1 to \(GroupNames.maxIDLength) letters, digits, '-', '_' or '.'")
        }
        // "Relays should prevent late publication (messages published now with a timestamp
        // from days or even hours ago)".
        if event.createdAt < context.now - groups.settings.latePublicationWindow {
            return .invalid("late publication: a group event must be dated within the last \(groups.settings.latePublicationWindow) seconds")
        }
        let group: StoredGroup?
        do {
            group = try await groups.store.group(id)
        } catch {
            return .error("could not read the group")
        }
        if event.kind == GroupKind.createGroup { return await create(event, id: id, existing: group, now: context.now) }
        guard let group else { return .invalid("there is no group '\(id)' on this relay") }
        if let refusal = await checkPrevious(event, group: id) { return refusal }
        switch event.kind {
        case GroupKind.joinRequest: return await join(event, group: group)
        case GroupKind.leaveRequest: return await leave(event, group: group)
        case let kind where GroupKind.moderation.contains(kind.rawValue):
            let roles = group.members[event.pubkey] ?? []
            guard event.pubkey == groups.identity.publicKey || GroupRole.allows(roles, kind) else {
                return .restricted("your role in group '\(id)' does not allow kind \(kind.rawValue)")
            }
            return await moderate(event, group: group)
        default:
            if group.metadata.isRestricted, group.members[event.pubkey] == nil {
                return .restricted("only members may write to group '\(id)'")
            }
            return nil
        }
    }

    // MARK: Timeline references

    /// "Relays are expected to reject any events that contain timeline references to events
    /// not found in their own database."
    private func checkPrevious(_ event: Event, group id: String) async -> RejectReason? {
        let references = event.tags.filter { $0.name == "previous" }.flatMap { $0.fields.dropFirst() }
        guard !references.isEmpty else { return nil }
        if references.count > Self.maxPrevious {
            return .invalid("at most \(Self.maxPrevious) previous references")
        }
        guard references.allSatisfy({ $0.utf8.count == 8 && Hex.decode($0) != nil }) else {
            return .invalid("a previous reference is the first 8 hex characters of an event id")
        }
        do {
            let known = try await groups.recentIDPrefixes(inGroup: id, count: Self.previousWindow)
            for reference in references where !known.contains(Substring(reference.lowercased())) {
                return .invalid("previous reference \(reference) names no recent event of group '\(id)' on this relay")
            }
            return nil
        } catch {
            return .error("could not read the group's recent events")
        }
    }

    // MARK: Users about themselves

    private func join(_ event: Event, group: StoredGroup) async -> RejectReason? {
        // "If a user is already a member, the event MUST be rejected with duplicate:".
        if group.members[event.pubkey] != nil { return RejectReason(.duplicate, "you are already a member of group '\(group.id)'") }
        if let full = isFull(group) { return full }
        do {
            if let code = event.tags.firstValue(named: "code") {
                switch try await groups.store.redeemInvite(code: code, group: group.id, by: event.pubkey) {
                case .joined: break
                case .alreadyMember: return RejectReason(.duplicate, "you are already a member of group '\(group.id)'")
                case .unknownCode: return .restricted("that is not an invite code of group '\(group.id)'")
                case .alreadyUsed: return .restricted("that invite code was used already")
                case .expired: return .restricted("that invite code is expired")
                }
            } else {
                // "If a group is closed, join requests are not honored unless they include an invite code."
                if group.metadata.isClosed {
                    return .restricted("group '\(group.id)' is closed: ask an admin for an invite code")
                }
                guard try await groups.store.putMember(event.pubkey, roles: [], in: group.id) else {
                    return .invalid("there is no group '\(group.id)' on this relay")
                }
            }
        } catch {
            return .error("could not record the membership")
        }
        await groups.publishModeration(kind: GroupKind.putUser, group: group.id, member: event.pubkey, reason: "joined")
        await groups.changed(group.id)
        return nil
    }

    /// "The relay will automatically issue a kind:9001 in response removing this user."
    private func leave(_ event: Event, group: StoredGroup) async -> RejectReason? {
        do {
            guard try await groups.store.removeMember(event.pubkey, from: group.id) else {
                return .invalid("you are not a member of group '\(group.id)'")
            }
        } catch {
            return .error("could not record the departure")
        }
        await groups.publishModeration(kind: GroupKind.removeUser, group: group.id, member: event.pubkey, reason: "left")
        await groups.changed(group.id)
        return nil
    }

    private func isFull(_ group: StoredGroup) -> RejectReason? {
        group.members.count >= groups.settings.maxMembers
            ? .restricted("group '\(group.id)' has the most members this relay allows (\(groups.settings.maxMembers))") : nil
    }

    // MARK: Moderation

    private func create(_ event: Event, id: String, existing: StoredGroup?, now: Int64) async -> RejectReason? {
        if existing != nil { return .invalid("group '\(id)' exists already") }
        // This node's count, which follows the store within moments: close enough for a bound.
        if groups.directory.count >= groups.settings.maxGroups {
            return .restricted("this relay hosts at most \(groups.settings.maxGroups) groups")
        }
        let record = GroupRecord(id: id, metadata: Self.metadata(from: event, base: GroupMetadata()), createdAt: now)
        do {
            guard try await groups.store.createGroup(record, creator: event.pubkey, roles: [GroupRole.admin.rawValue])
            else { return .invalid("group '\(id)' exists already") }
        } catch {
            return .error("could not create the group")
        }
        await groups.changed(id)
        return nil
    }

    private func moderate(_ event: Event, group: StoredGroup) async -> RejectReason? {
        do {
            switch event.kind {
            case GroupKind.putUser:
                guard let target = event.tags.first(where: { $0.name == "p" }), let value = target.value,
                    let pubkey = PublicKey(hex: value)
                else { return .invalid("put-user needs a p tag with a hex pubkey") }
                if group.members[pubkey] == nil, let full = isFull(group) { return full }
                let roles = Array(target.fields.dropFirst(2))
                guard roles.count <= GroupNames.maxRoles, roles.allSatisfy(GroupNames.isValidRole) else {
                    return .invalid("at most \(GroupNames.maxRoles) roles, each a word of up to \(GroupNames.maxRoleLength) bytes")
                }
                guard try await groups.store.putMember(pubkey, roles: roles, in: group.id) else {
                    return .invalid("there is no group '\(group.id)' on this relay")
                }
            case GroupKind.removeUser:
                guard let value = event.tags.firstValue(named: "p"), let pubkey = PublicKey(hex: value) else {
                    return .invalid("remove-user needs a p tag with a hex pubkey")
                }
                guard try await groups.store.removeMember(pubkey, from: group.id) else {
                    return .invalid("\(value) is not a member of group '\(group.id)'")
                }
            case GroupKind.editMetadata:
                guard try await groups.store.setMetadata(Self.metadata(from: event, base: group.metadata), of: group.id)
                else { return .invalid("there is no group '\(group.id)' on this relay") }
            case GroupKind.deleteEvent:
                let ids = event.tags.values(named: "e").compactMap(EventID.init(hex:))
                guard !ids.isEmpty else { return .invalid("delete-event needs e tags with event ids") }
                try await groups.removeEvents(ids, inGroup: group.id)
                return nil
            case GroupKind.deleteGroup:
                _ = try await groups.delete(id: group.id)
                return nil
            case GroupKind.createInvite:
                guard let code = event.tags.firstValue(named: "code"), GroupNames.isValidCode(code) else {
                    return .invalid("create-invite needs a code tag of 1 to \(GroupNames.maxCodeLength) printable characters")
                }
                guard try await groups.store.createInvite(code: code, group: group.id, by: event.pubkey) else {
                    return .invalid("that invite code exists already")
                }
                return nil
            default:
                return RejectReason(.unsupported, "moderation kind \(event.kind.rawValue) is not supported by this relay")
            }
        } catch {
            return .error("could not apply the moderation event")
        }
        await groups.changed(group.id)
        return nil
    }

    /// The metadata an edit-metadata (or create-group) event sets: it carries "all the
    /// fields of group-metadata", so a flag absent is a flag off. A display field absent
    /// keeps its value, so that clients sending only what changed lose nothing.
    static func metadata(from event: Event, base: GroupMetadata) -> GroupMetadata {
        var metadata = base
        let tags = event.tags
        if let name = tags.firstValue(named: "name") { metadata.name = name }
        if let picture = tags.firstValue(named: "picture") { metadata.picture = picture }
        if let about = tags.firstValue(named: "about") { metadata.about = about }
        if let banner = tags.firstValue(named: "banner") { metadata.banner = banner }
        let flags = Set(tags.map(\.name))
        metadata.isPrivate = flags.contains("private")
        metadata.isRestricted = flags.contains("restricted")
        metadata.isHidden = flags.contains("hidden")
        metadata.isClosed = flags.contains("closed")
        return metadata
    }
}
