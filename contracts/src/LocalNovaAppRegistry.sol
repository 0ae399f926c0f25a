// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ILocalNovaAppRegistry} from "./interfaces/ILocalNovaAppRegistry.sol";
import {INovaAppOperatorCallbacks} from "./interfaces/INovaAppOperatorCallbacks.sol";

/// @title LocalNovaAppRegistry
/// @notice A stand-in for the Nova platform's app registry on a local chain. It exposes the same views
///         as the platform (see INovaAppRegistry) and lets its owner play the platform's role: create
///         apps, enroll versions, register instances and flip their zk/status flags.
/// @dev Design decisions, in one place:
///      - Ids (apps, instances, and versions within an app) start at 1, so 0 always means "none".
///      - An instance is an *operator* of its app while it is ACTIVE and zkVerified. Exactly on each
///        transition into or out of that state the registry calls addOperator/removeOperator on the
///        app's dappContract (when it is set and has code). A failing callback reverts the whole admin
///        call: the registry and the dApp must never disagree about who operates the app.
///      - getActiveInstances lists every ACTIVE instance, zkVerified or not, like the platform's view;
///        consumers that need zk verification (the KMS node does) check it per instance.
///      - App and version status changes do not trigger callbacks: they are instance-independent, and
///        KMS nodes read app/version status from this registry directly on every authorization.
contract LocalNovaAppRegistry is ILocalNovaAppRegistry {
    /// @dev Written into every app: the only TEE kind Nova runs today.
    bytes32 public constant TEE_ARCH_NITRO = "aws-nitro";

    /// @notice The platform operator: the only account allowed to change anything.
    address public immutable owner;

    uint256 public appCount;
    uint256 public instanceCount;

    mapping(uint256 appId => App) private _apps;
    mapping(uint256 appId => mapping(uint256 versionId => Version)) private _versions;
    mapping(uint256 instanceId => Instance) private _instances;
    mapping(address wallet => uint256 instanceId) private _instanceIdByWallet;

    /// @dev Per-app set of ACTIVE instance wallets with O(1) insert and delete: the array holds the
    ///      members, the index map holds each member's position plus one (0 = not a member).
    mapping(uint256 appId => address[]) private _activeWallets;
    mapping(uint256 instanceId => uint256) private _activeSlot;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    // ------------------------------------------------------------------ admin

    /// @notice Registers a new app. `dappContract` may be zero (an app without operator callbacks).
    function createApp(address appOwner, address dappContract, string calldata metadataUri)
        external
        onlyOwner
        returns (uint256 appId)
    {
        if (appOwner == address(0)) revert ZeroAddress();
        appId = ++appCount;
        App storage app = _apps[appId];
        app.id = appId;
        app.owner = appOwner;
        app.teeArch = TEE_ARCH_NITRO;
        app.dappContract = dappContract;
        app.metadataUri = metadataUri;
        app.createdAt = block.timestamp;
        app.status = AppStatus.ACTIVE;
        emit AppCreated(appId, appOwner, dappContract, metadataUri);
    }

    /// @notice Adds a version to an app and makes it the app's latest one.
    function enrollVersion(uint256 appId, string calldata versionName, bytes32 codeMeasurement)
        external
        onlyOwner
        returns (uint256 versionId)
    {
        App storage app = _requireApp(appId);
        versionId = ++app.latestVersionId;
        Version storage version = _versions[appId][versionId];
        version.id = versionId;
        version.versionName = versionName;
        version.codeMeasurement = codeMeasurement;
        version.status = VersionStatus.ENROLLED;
        version.enrolledAt = block.timestamp;
        version.enrolledBy = msg.sender;
        emit VersionEnrolled(appId, versionId, versionName, codeMeasurement);
    }

    /// @notice Registers a running enclave. It starts ACTIVE but not zkVerified, so it is not yet an
    ///         operator: verification is a separate step, as on the platform.
    function registerInstance(
        uint256 appId,
        uint256 versionId,
        address operator,
        string calldata instanceUrl,
        bytes calldata teePubkey,
        address teeWallet
    ) external onlyOwner returns (uint256 instanceId) {
        if (teeWallet == address(0)) revert ZeroAddress();
        App storage app = _requireApp(appId);
        if (app.status != AppStatus.ACTIVE) revert AppNotActive(appId);
        Version storage version = _requireVersion(appId, versionId);
        if (version.status != VersionStatus.ENROLLED) revert VersionNotEnrolled(appId, versionId);
        uint256 existing = _instanceIdByWallet[teeWallet];
        if (existing != 0) revert WalletAlreadyRegistered(teeWallet, existing);

        instanceId = ++instanceCount;
        Instance storage inst = _instances[instanceId];
        inst.id = instanceId;
        inst.appId = appId;
        inst.versionId = versionId;
        inst.operator = operator;
        inst.instanceUrl = instanceUrl;
        inst.teePubkey = teePubkey;
        inst.teeWalletAddress = teeWallet;
        inst.status = InstanceStatus.ACTIVE;
        inst.registeredAt = block.timestamp;
        _instanceIdByWallet[teeWallet] = instanceId;
        _addActive(inst);
        emit InstanceRegistered(instanceId, appId, teeWallet, versionId, operator, instanceUrl, teePubkey);
    }

    /// @notice Records the outcome of the instance's attestation proof.
    function setZkVerified(uint256 instanceId, bool zkVerified) external onlyOwner {
        Instance storage inst = _requireInstance(instanceId);
        bool wasOperator = _isOperator(inst);
        inst.zkVerified = zkVerified;
        emit InstanceZkVerifiedSet(instanceId, zkVerified);
        _notifyDapp(inst, wasOperator);
    }

    /// @notice Moves an instance between ACTIVE, STOPPED and FAILED (any direction, so tests can
    ///         revive an instance).
    function setInstanceStatus(uint256 instanceId, uint8 status) external onlyOwner {
        InstanceStatus next = _toInstanceStatus(status);
        Instance storage inst = _requireInstance(instanceId);
        bool wasOperator = _isOperator(inst);
        InstanceStatus previous = inst.status;
        inst.status = next;
        if (previous == InstanceStatus.ACTIVE && next != InstanceStatus.ACTIVE) _removeActive(inst);
        else if (previous != InstanceStatus.ACTIVE && next == InstanceStatus.ACTIVE) _addActive(inst);
        emit InstanceStatusSet(instanceId, previous, next);
        _notifyDapp(inst, wasOperator);
    }

    function setVersionStatus(uint256 appId, uint256 versionId, uint8 status) external onlyOwner {
        if (status > uint8(type(VersionStatus).max)) revert InvalidStatus(status);
        Version storage version = _requireVersion(appId, versionId);
        VersionStatus previous = version.status;
        version.status = VersionStatus(status);
        emit VersionStatusSet(appId, versionId, previous, VersionStatus(status));
    }

    function setAppStatus(uint256 appId, uint8 status) external onlyOwner {
        if (status > uint8(type(AppStatus).max)) revert InvalidStatus(status);
        App storage app = _requireApp(appId);
        AppStatus previous = app.status;
        app.status = AppStatus(status);
        emit AppStatusSet(appId, previous, AppStatus(status));
    }

    // ------------------------------------------------------------------ views

    /// @notice Reverts with AppNotFound for an unknown id.
    function getApp(uint256 appId) external view returns (App memory) {
        return _requireApp(appId);
    }

    /// @notice Reverts with VersionNotFound for an unknown (app, version) pair.
    function getVersion(uint256 appId, uint256 versionId) external view returns (Version memory) {
        return _requireVersion(appId, versionId);
    }

    /// @notice Zeroed struct (id 0) for a wallet that was never registered.
    function getInstanceByWallet(address wallet) external view returns (Instance memory) {
        return _instances[_instanceIdByWallet[wallet]];
    }

    /// @notice Reverts with InstanceNotFound for an unknown id.
    function getInstance(uint256 instanceId) external view returns (Instance memory) {
        return _requireInstance(instanceId);
    }

    /// @notice Wallets of the app's ACTIVE instances, zkVerified or not, in no particular order.
    ///         Unknown apps have no instances, so they yield an empty list.
    function getActiveInstances(uint256 appId) external view returns (address[] memory) {
        return _activeWallets[appId];
    }

    // ------------------------------------------------------------------ internals

    function _requireApp(uint256 appId) private view returns (App storage app) {
        app = _apps[appId];
        if (app.id == 0) revert AppNotFound(appId);
    }

    function _requireVersion(uint256 appId, uint256 versionId) private view returns (Version storage version) {
        version = _versions[appId][versionId];
        if (version.id == 0) revert VersionNotFound(appId, versionId);
    }

    function _requireInstance(uint256 instanceId) private view returns (Instance storage inst) {
        inst = _instances[instanceId];
        if (inst.id == 0) revert InstanceNotFound(instanceId);
    }

    /// @dev Checked explicitly: converting an out-of-range uint8 to an enum would panic with no reason.
    function _toInstanceStatus(uint8 status) private pure returns (InstanceStatus) {
        if (status > uint8(type(InstanceStatus).max)) revert InvalidStatus(status);
        return InstanceStatus(status);
    }

    function _isOperator(Instance storage inst) private view returns (bool) {
        return inst.status == InstanceStatus.ACTIVE && inst.zkVerified;
    }

    function _addActive(Instance storage inst) private {
        address[] storage wallets = _activeWallets[inst.appId];
        wallets.push(inst.teeWalletAddress);
        _activeSlot[inst.id] = wallets.length;
    }

    function _removeActive(Instance storage inst) private {
        address[] storage wallets = _activeWallets[inst.appId];
        uint256 slot = _activeSlot[inst.id];
        uint256 last = wallets.length;
        if (slot != last) {
            address moved = wallets[last - 1];
            wallets[slot - 1] = moved;
            _activeSlot[_instanceIdByWallet[moved]] = slot;
        }
        wallets.pop();
        delete _activeSlot[inst.id];
    }

    /// @dev Runs after all state changes and events (checks-effects-interactions). Calls the dApp only
    ///      when operator-ness actually flipped, and lets a revert there undo the whole admin call.
    function _notifyDapp(Instance storage inst, bool wasOperator) private {
        bool isOperatorNow = _isOperator(inst);
        if (isOperatorNow == wasOperator) return;
        address dapp = _apps[inst.appId].dappContract;
        if (dapp == address(0) || dapp.code.length == 0) return;
        if (isOperatorNow) {
            INovaAppOperatorCallbacks(dapp).addOperator(inst.teeWalletAddress, inst.appId, inst.versionId, inst.id);
        } else {
            INovaAppOperatorCallbacks(dapp).removeOperator(inst.teeWalletAddress, inst.appId, inst.versionId, inst.id);
        }
    }
}
