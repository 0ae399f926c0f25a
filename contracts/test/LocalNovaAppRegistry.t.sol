// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./base/TestBase.sol";
import {LocalNovaAppRegistry} from "../src/LocalNovaAppRegistry.sol";
import {ILocalNovaAppRegistry} from "../src/interfaces/ILocalNovaAppRegistry.sol";
import {INovaAppRegistry} from "../src/interfaces/INovaAppRegistry.sol";
import {RecordingDapp, CallbackLessContract} from "./helpers/RecordingDapp.sol";

contract LocalNovaAppRegistryTest is TestBase {
    LocalNovaAppRegistry internal registry;
    RecordingDapp internal dapp;

    address internal constant STRANGER = address(0xBAD);
    address internal constant APP_OWNER = address(0xA0);
    address internal constant OPERATOR = address(0x0B);
    address internal constant WALLET_1 = address(0x1001);
    address internal constant WALLET_2 = address(0x1002);
    address internal constant WALLET_3 = address(0x1003);
    bytes internal constant PUBKEY = hex"04aabbcc";

    uint256 internal appId;
    uint256 internal versionId;

    function setUp() public {
        registry = new LocalNovaAppRegistry();
        dapp = new RecordingDapp();
        appId = registry.createApp(APP_OWNER, address(dapp), "ipfs://app");
        versionId = registry.enrollVersion(appId, "v1", bytes32(uint256(0x11)));
    }

    function _register(address wallet) internal returns (uint256) {
        return registry.registerInstance(appId, versionId, OPERATOR, "https://node", PUBKEY, wallet);
    }

    function _activeContains(uint256 app, address wallet) internal view returns (bool) {
        address[] memory active = registry.getActiveInstances(app);
        for (uint256 i = 0; i < active.length; ++i) {
            if (active[i] == wallet) return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ construction and apps

    function test_Constructor_DeployerIsOwner() public {
        assertEq(registry.owner(), address(this));
        vm.prank(STRANGER);
        LocalNovaAppRegistry other = new LocalNovaAppRegistry();
        assertEq(other.owner(), STRANGER);
    }

    function test_CreateApp_StoresFieldsAndEmits() public {
        vm.warp(1_700_000_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILocalNovaAppRegistry.AppCreated(2, APP_OWNER, address(0xDA99), "ipfs://second");
        uint256 id = registry.createApp(APP_OWNER, address(0xDA99), "ipfs://second");
        assertEq(id, 2);
        assertEq(registry.appCount(), 2);

        INovaAppRegistry.App memory app = registry.getApp(id);
        assertEq(app.id, 2);
        assertEq(app.owner, APP_OWNER);
        assertEq(app.teeArch, registry.TEE_ARCH_NITRO());
        assertEq(app.dappContract, address(0xDA99));
        assertEq(app.metadataUri, "ipfs://second");
        assertEq(app.latestVersionId, 0);
        assertEq(app.createdAt, 1_700_000_000);
        assertEq(uint256(app.status), uint256(INovaAppRegistry.AppStatus.ACTIVE));
        assertEq(app.appWallet, address(0));
    }

    function test_CreateApp_RevertsForNonOwnerAndZeroOwner() public {
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.createApp(APP_OWNER, address(0), "");

        vm.expectRevert(ILocalNovaAppRegistry.ZeroAddress.selector);
        registry.createApp(address(0), address(0), "");
    }

    function test_GetApp_RevertsForUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.AppNotFound.selector, 0));
        registry.getApp(0);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.AppNotFound.selector, 99));
        registry.getApp(99);
    }

    // ------------------------------------------------------------------ versions

    function test_EnrollVersion_StoresFieldsBumpsLatestAndEmits() public {
        vm.warp(1_800_000_000);
        vm.expectEmit(true, true, false, true, address(registry));
        emit ILocalNovaAppRegistry.VersionEnrolled(appId, 2, "v2", bytes32(uint256(0x22)));
        uint256 id = registry.enrollVersion(appId, "v2", bytes32(uint256(0x22)));
        assertEq(id, 2);
        assertEq(registry.getApp(appId).latestVersionId, 2);

        INovaAppRegistry.Version memory version = registry.getVersion(appId, 2);
        assertEq(version.id, 2);
        assertEq(version.versionName, "v2");
        assertEq(version.codeMeasurement, bytes32(uint256(0x22)));
        assertEq(uint256(version.status), uint256(INovaAppRegistry.VersionStatus.ENROLLED));
        assertEq(version.enrolledAt, 1_800_000_000);
        assertEq(version.enrolledBy, address(this));
        assertEq(version.imageUri, "");

        // Version ids are per app: a fresh app starts at 1 again.
        uint256 otherApp = registry.createApp(APP_OWNER, address(0), "");
        assertEq(registry.enrollVersion(otherApp, "x", bytes32(0)), 1);
    }

    function test_EnrollVersion_Reverts() public {
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.AppNotFound.selector, 7));
        registry.enrollVersion(7, "v", bytes32(0));

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.enrollVersion(appId, "v", bytes32(0));
    }

    function test_GetVersion_RevertsForUnknownPair() public {
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.VersionNotFound.selector, appId, 5));
        registry.getVersion(appId, 5);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.VersionNotFound.selector, 42, versionId));
        registry.getVersion(42, versionId);
    }

    // ------------------------------------------------------------------ instances

    function test_RegisterInstance_StoresFieldsAndEmits() public {
        vm.warp(1_900_000_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit ILocalNovaAppRegistry.InstanceRegistered(1, appId, WALLET_1, versionId, OPERATOR, "https://node", PUBKEY);
        uint256 id = _register(WALLET_1);
        assertEq(id, 1);
        assertEq(registry.instanceCount(), 1);

        INovaAppRegistry.Instance memory inst = registry.getInstanceByWallet(WALLET_1);
        assertEq(inst.id, 1);
        assertEq(inst.appId, appId);
        assertEq(inst.versionId, versionId);
        assertEq(inst.operator, OPERATOR);
        assertEq(inst.instanceUrl, "https://node");
        assertEq(inst.teePubkey, PUBKEY);
        assertEq(inst.teeWalletAddress, WALLET_1);
        assertFalse(inst.zkVerified, "new instances are not verified");
        assertEq(uint256(inst.status), uint256(INovaAppRegistry.InstanceStatus.ACTIVE));
        assertEq(inst.registeredAt, 1_900_000_000);

        assertEq(keccak256(abi.encode(registry.getInstance(1))), keccak256(abi.encode(inst)));
        assertTrue(_activeContains(appId, WALLET_1), "ACTIVE instances are listed even unverified");
        assertEq(dapp.callCount(), 0, "no callback before zk verification");
    }

    function test_RegisterInstance_OneInstancePerWallet() public {
        _register(WALLET_1);
        registry.setInstanceStatus(1, uint8(INovaAppRegistry.InstanceStatus.STOPPED));
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.WalletAlreadyRegistered.selector, WALLET_1, 1));
        _register(WALLET_1);
    }

    function test_RegisterInstance_RevertsOnBadReferences() public {
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.AppNotFound.selector, 9));
        registry.registerInstance(9, 1, OPERATOR, "", PUBKEY, WALLET_1);

        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.VersionNotFound.selector, appId, 9));
        registry.registerInstance(appId, 9, OPERATOR, "", PUBKEY, WALLET_1);

        vm.expectRevert(ILocalNovaAppRegistry.ZeroAddress.selector);
        registry.registerInstance(appId, versionId, OPERATOR, "", PUBKEY, address(0));

        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.registerInstance(appId, versionId, OPERATOR, "", PUBKEY, WALLET_1);
    }

    function test_RegisterInstance_RequiresActiveAppAndEnrolledVersion() public {
        registry.setVersionStatus(appId, versionId, uint8(INovaAppRegistry.VersionStatus.DEPRECATED));
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.VersionNotEnrolled.selector, appId, versionId));
        _register(WALLET_1);

        registry.setVersionStatus(appId, versionId, uint8(INovaAppRegistry.VersionStatus.ENROLLED));
        registry.setAppStatus(appId, uint8(INovaAppRegistry.AppStatus.INACTIVE));
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.AppNotActive.selector, appId));
        _register(WALLET_1);
    }

    function test_GetInstanceByWallet_UnknownWalletIsZeroedNotReverted() public view {
        INovaAppRegistry.Instance memory inst = registry.getInstanceByWallet(address(0xDEAD));
        assertEq(inst.id, 0);
        assertEq(inst.appId, 0);
        assertEq(inst.teeWalletAddress, address(0));
        assertEq(inst.teePubkey, "");
        assertFalse(inst.zkVerified);
    }

    function test_GetInstance_RevertsForUnknownId() public {
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.InstanceNotFound.selector, 3));
        registry.getInstance(3);
    }

    // ------------------------------------------------------------------ zk flag and callbacks

    function test_SetZkVerified_CallsBackOnlyOnTransitions() public {
        uint256 id = _register(WALLET_1);

        vm.expectEmit(true, false, false, true, address(registry));
        emit ILocalNovaAppRegistry.InstanceZkVerifiedSet(id, true);
        registry.setZkVerified(id, true);
        assertTrue(registry.getInstance(id).zkVerified);
        assertEq(dapp.callCount(), 1);
        RecordingDapp.Call memory call = dapp.lastCall();
        assertTrue(call.added);
        assertEq(call.wallet, WALLET_1);
        assertEq(call.appId, appId);
        assertEq(call.versionId, versionId);
        assertEq(call.instanceId, id);

        registry.setZkVerified(id, true); // no transition: event, but no second callback
        assertEq(dapp.callCount(), 1, "repeat verification must not call back");

        registry.setZkVerified(id, false);
        assertEq(dapp.callCount(), 2);
        assertFalse(dapp.lastCall().added);
        assertEq(dapp.lastCall().wallet, WALLET_1);
    }

    function test_SetZkVerified_OnStoppedInstanceDoesNotCallBack() public {
        uint256 id = _register(WALLET_1);
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.STOPPED));
        registry.setZkVerified(id, true);
        assertEq(dapp.callCount(), 0);
        // Reviving a verified instance is the transition that makes it an operator.
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.ACTIVE));
        assertEq(dapp.callCount(), 1);
        assertTrue(dapp.lastCall().added);
    }

    function test_SetZkVerified_RevertsForUnknownInstanceAndNonOwner() public {
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.InstanceNotFound.selector, 1));
        registry.setZkVerified(1, true);
        uint256 id = _register(WALLET_1);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.setZkVerified(id, true);
    }

    // ------------------------------------------------------------------ instance status

    function test_SetInstanceStatus_UpdatesActiveListEmitsAndCallsBack() public {
        uint256 id = _register(WALLET_1);
        registry.setZkVerified(id, true);

        vm.expectEmit(true, false, false, true, address(registry));
        emit ILocalNovaAppRegistry.InstanceStatusSet(
            id, INovaAppRegistry.InstanceStatus.ACTIVE, INovaAppRegistry.InstanceStatus.FAILED
        );
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.FAILED));
        assertEq(uint256(registry.getInstance(id).status), uint256(INovaAppRegistry.InstanceStatus.FAILED));
        assertFalse(_activeContains(appId, WALLET_1));
        assertEq(dapp.callCount(), 2);
        assertFalse(dapp.lastCall().added);

        // FAILED -> STOPPED: still not active, nothing to tell the dApp.
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.STOPPED));
        assertEq(dapp.callCount(), 2);
        assertEq(registry.getActiveInstances(appId).length, 0);
    }

    function test_SetInstanceStatus_Reverts() public {
        uint256 id = _register(WALLET_1);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.InvalidStatus.selector, 3));
        registry.setInstanceStatus(id, 3);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.InstanceNotFound.selector, 2));
        registry.setInstanceStatus(2, 1);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.setInstanceStatus(id, 1);
    }

    function test_GetActiveInstances_SwapAndPopKeepsOthers() public {
        _register(WALLET_1);
        _register(WALLET_2);
        _register(WALLET_3);
        registry.setInstanceStatus(1, uint8(INovaAppRegistry.InstanceStatus.STOPPED));

        address[] memory active = registry.getActiveInstances(appId);
        assertEq(active.length, 2);
        assertTrue(_activeContains(appId, WALLET_2));
        assertTrue(_activeContains(appId, WALLET_3));
        assertFalse(_activeContains(appId, WALLET_1));

        // Removing the member that was moved into slot 0 must still find it.
        registry.setInstanceStatus(3, uint8(INovaAppRegistry.InstanceStatus.FAILED));
        active = registry.getActiveInstances(appId);
        assertEq(active.length, 1);
        assertEq(active[0], WALLET_2);

        registry.setInstanceStatus(1, uint8(INovaAppRegistry.InstanceStatus.ACTIVE));
        assertEq(registry.getActiveInstances(appId).length, 2);
        assertTrue(_activeContains(appId, WALLET_1));
    }

    function test_GetActiveInstances_IsPerApp() public {
        uint256 otherApp = registry.createApp(APP_OWNER, address(0), "");
        uint256 otherVersion = registry.enrollVersion(otherApp, "o1", bytes32(0));
        _register(WALLET_1);
        registry.registerInstance(otherApp, otherVersion, OPERATOR, "", PUBKEY, WALLET_2);
        assertEq(registry.getActiveInstances(appId).length, 1);
        assertEq(registry.getActiveInstances(appId)[0], WALLET_1);
        assertEq(registry.getActiveInstances(otherApp).length, 1);
        assertEq(registry.getActiveInstances(otherApp)[0], WALLET_2);
        assertEq(registry.getActiveInstances(12345).length, 0, "unknown app lists nothing");
    }

    // ------------------------------------------------------------------ version and app status

    function test_SetVersionStatus_EmitsAndValidates() public {
        vm.expectEmit(true, true, false, true, address(registry));
        emit ILocalNovaAppRegistry.VersionStatusSet(
            appId, versionId, INovaAppRegistry.VersionStatus.ENROLLED, INovaAppRegistry.VersionStatus.REVOKED
        );
        registry.setVersionStatus(appId, versionId, uint8(INovaAppRegistry.VersionStatus.REVOKED));
        assertEq(uint256(registry.getVersion(appId, versionId).status), uint256(INovaAppRegistry.VersionStatus.REVOKED));

        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.InvalidStatus.selector, 255));
        registry.setVersionStatus(appId, versionId, 255);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.VersionNotFound.selector, appId, 2));
        registry.setVersionStatus(appId, 2, 0);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.setVersionStatus(appId, versionId, 0);
    }

    function test_SetAppStatus_EmitsAndValidates() public {
        vm.expectEmit(true, false, false, true, address(registry));
        emit ILocalNovaAppRegistry.AppStatusSet(appId, INovaAppRegistry.AppStatus.ACTIVE, INovaAppRegistry.AppStatus.REVOKED);
        registry.setAppStatus(appId, uint8(INovaAppRegistry.AppStatus.REVOKED));
        assertEq(uint256(registry.getApp(appId).status), uint256(INovaAppRegistry.AppStatus.REVOKED));

        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.InvalidStatus.selector, 3));
        registry.setAppStatus(appId, 3);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.AppNotFound.selector, 77));
        registry.setAppStatus(77, 0);
        vm.prank(STRANGER);
        vm.expectRevert(abi.encodeWithSelector(ILocalNovaAppRegistry.NotOwner.selector, STRANGER));
        registry.setAppStatus(appId, 0);
    }

    // ------------------------------------------------------------------ callback policy

    function test_Callback_FailureRevertsTheAdminCall() public {
        uint256 id = _register(WALLET_1);
        dapp.setRejecting(true);
        vm.expectRevert(RecordingDapp.CallbackRejected.selector);
        registry.setZkVerified(id, true);
        assertFalse(registry.getInstance(id).zkVerified, "state must not diverge from the dApp's");

        dapp.setRejecting(false);
        registry.setZkVerified(id, true);
        dapp.setRejecting(true);
        vm.expectRevert(RecordingDapp.CallbackRejected.selector);
        registry.setInstanceStatus(id, uint8(INovaAppRegistry.InstanceStatus.STOPPED));
        assertEq(uint256(registry.getInstance(id).status), uint256(INovaAppRegistry.InstanceStatus.ACTIVE));
        assertTrue(_activeContains(appId, WALLET_1));
    }

    function test_Callback_SkippedWithoutDappCode() public {
        // No dApp at all, and a dApp address without code: both are fine, nothing is called.
        uint256 noDapp = registry.createApp(APP_OWNER, address(0), "");
        uint256 eoaDapp = registry.createApp(APP_OWNER, address(0xE0A), "");
        uint256 v1 = registry.enrollVersion(noDapp, "v", bytes32(0));
        uint256 v2 = registry.enrollVersion(eoaDapp, "v", bytes32(0));
        uint256 a = registry.registerInstance(noDapp, v1, OPERATOR, "", PUBKEY, WALLET_1);
        uint256 b = registry.registerInstance(eoaDapp, v2, OPERATOR, "", PUBKEY, WALLET_2);
        registry.setZkVerified(a, true);
        registry.setZkVerified(b, true);
        assertTrue(registry.getInstance(a).zkVerified);
        assertTrue(registry.getInstance(b).zkVerified);
        assertEq(dapp.callCount(), 0);
    }

    function test_Callback_DappWithoutCallbacksBlocksTransitions() public {
        CallbackLessContract bare = new CallbackLessContract();
        uint256 app = registry.createApp(APP_OWNER, address(bare), "");
        uint256 v = registry.enrollVersion(app, "v", bytes32(0));
        uint256 id = registry.registerInstance(app, v, OPERATOR, "", PUBKEY, WALLET_1);
        vm.expectRevert();
        registry.setZkVerified(id, true);
    }
}
