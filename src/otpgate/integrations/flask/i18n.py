"""Simplified Chinese for the Flask pages, registered in the core catalog at import.

English is the source text. Add a language with ``otpgate.core.i18n.register(lang, {...})``
and list it in ``OTPGATE_LANGUAGES``. Error messages come from the core (Chinese by ``.code``;
a registered language by the error's English text).
"""

from __future__ import annotations

from otpgate.core.i18n import register

ZH: dict[str, str] = {
    "A second factor keeps your account safe even if your password leaks.": (
        "即使密码泄露，第二步验证也能保护您的账户安全。"
    ),
    "Add a phone number": "添加手机号码",
    "Add a second factor": "添加第二步验证方式",
    "Authenticator app": "身份验证器应用",
    "Authenticator app removed.": "已移除身份验证器应用。",
    "Authenticator app set up.": "身份验证器应用已启用。",
    "Back": "返回",
    "Cancel": "取消",
    "Cancel sign-in": "取消登录",
    "Check the details, then enter the code from your authenticator app.": (
        "请核对交易详情，然后输入身份验证器应用中的验证码。"
    ),
    "Check the details, then enter your code.": "请核对交易详情，然后输入验证码。",
    "Code": "验证码",
    "Code from the text message": "短信中的验证码",
    "Code from your authenticator app": "身份验证器应用中的验证码",
    "Confirm": "确认",
    "Confirm it's you": "确认是您本人",
    "Confirm the transaction": "确认交易",
    "Continue": "继续",
    "Each recovery code works once, e.g. ABCD-EFGH-JKMN.": (
        "每个恢复码只能使用一次，例如 ABCD-EFGH-JKMN。"
    ),
    "Enter a code to finish signing in.": "输入验证码以完成登录。",
    "Enter the code the app shows.": "输入应用中显示的验证码。",
    "File": "文件",
    "Files are not kept during verification: attach them again, then continue.": (
        "验证期间不会保留文件：请重新添加文件，然后继续。"
    ),
    "I have saved them": "我已保存",
    "Make new recovery codes": "生成新的恢复码",
    "Mobile phone number": "手机号码",
    "No phone number yet.": "尚未添加手机号码。",
    "Or enter this key by hand:": "或手动输入此密钥：",
    "Phone number removed.": "已移除手机号码。",
    "Phone number verified.": "手机号码已验证。",
    "Phone numbers": "手机号码",
    "Preferred factor": "首选验证方式",
    "Preferred factor saved.": "已保存首选验证方式。",
    "Recovery code": "恢复码",
    "Recovery codes": "恢复码",
    "Remove": "移除",
    "Remove {phone}": "移除 {phone}",
    "Save these codes somewhere safe now: they will not be shown again. Each code works "
    "once; your old codes no longer work.": (
        "请立即将这些恢复码保存在安全的地方：它们不会再次显示。每个恢复码只能使用一次；"
        "旧的恢复码已失效。"
    ),
    "Scan this QR code with your authenticator app.": "使用身份验证器应用扫描此二维码。",
    "Send a new code": "重新发送验证码",
    "Send code": "发送验证码",
    "Sending your form again": "正在重新提交您的表单",
    "Save": "保存",
    "Set up": "已设置",
    "Sign-in opens on": "登录时默认使用",
    "Start again": "重新开始",
    "Set up an authenticator app": "设置身份验证器应用",
    "Start over with a new key": "使用新密钥重新开始",
    "Text message": "短信",
    "Phone call": "电话",
    "Code from the phone call": "电话中读出的验证码",
    "We will call {phone} and read out a code.": "我们将给 {phone} 打电话并读出验证码。",
    "We are calling {phone}. Answer and listen: the code is read out twice.": (
        "我们正在给 {phone} 打电话。请接听：验证码会读两遍。"
    ),
    "Call me": "给我打电话",
    "Call again": "再打一次",
    "Didn't get it? Call me instead": "没有收到？改为电话告知",
    "The transaction was canceled.": "交易已取消。",
    "Thank you. Your form is being sent again as you filled it in.": (
        "谢谢。正在按您填写的内容重新提交表单。"
    ),
    "This action needs a fresh confirmation with your second factor.": (
        "此操作需要您再次通过第二步验证。"
    ),
    "Try again in {seconds} s.": "请在 {seconds} 秒后重试。",
    "Turn on": "启用",
    "Two-step verification": "两步验证",
    "To confirm transactions, first add an authenticator app or a phone number to your "
    "account.": "要确认交易，请先为您的账户添加身份验证器应用或手机号码。",
    "Use {factor} instead": "改用{factor}",
    "Use another number": "使用其他号码",
    "Verification method": "验证方式",
    "Verify": "验证",
    "We sent a code for exactly this transaction to {phone}.": (
        "我们已向 {phone} 发送了仅适用于此笔交易的验证码。"
    ),
    "We sent a code to {phone}.": "我们已向 {phone} 发送了验证码。",
    "We will send a code to {phone}.": "我们将向 {phone} 发送验证码。",
    "With the country code, e.g. +44 7700 900123.": "请包含国家/地区代码，例如 +86 138 0013 8000。",
    "You can request a new code in {seconds} s.": "{seconds} 秒后可重新获取验证码。",
    "Your recovery codes": "您的恢复码",
    "{count} unused recovery codes.": "还有 {count} 个未使用的恢复码。",
    "Don't ask again on this device for {days} days": "{days} 天内在此设备上不再询问",
    "Remembered devices": "已记住的设备",
    "These devices skip the code at sign-in. Changing a factor or your password forgets "
    "them all.": "这些设备登录时无需验证码。更改验证方式或密码会使其全部失效。",
    "Unknown browser": "未知浏览器",
    "network {place}": "网络 {place}",
    "First seen": "首次使用",
    "last seen": "最近使用",
    "Forget {device}": "忘记 {device}",
    "Forget": "忘记",
    "No remembered device.": "没有已记住的设备。",
    "Yes, ask every device for a code again": "是的，让所有设备重新输入验证码",
    "Forget all devices": "忘记所有设备",
    "The device will be asked for a code again.": "该设备将需要重新输入验证码。",
    "Every device will be asked for a code again.": "所有设备都将需要重新输入验证码。",
    # Passkeys
    "A passkey signs you in with your fingerprint, face or screen lock, or a security key. "
    "It cannot be phished: it only works on this site.": (
        "通行密钥通过指纹、面容、屏幕锁或安全密钥让您登录。它无法被钓鱼：只能在本网站使用。"
    ),
    "Add a passkey": "添加通行密钥",
    "Added {date}": "添加于 {date}",
    "Approve with your passkey": "使用通行密钥批准",
    "Check the details, then approve them with your passkey.": (
        "请核对交易详情，然后使用通行密钥批准。"
    ),
    "Create the passkey": "创建通行密钥",
    "Create “{name}” with this device's screen lock or your security key.": (
        "使用此设备的屏幕锁或您的安全密钥创建“{name}”。"
    ),
    "Keep it": "保留",
    "Last used {date}": "上次使用于 {date}",
    "Name": "名称",
    "Never used": "从未使用",
    "No passkey was created. Try again when you are ready.": "未创建通行密钥。准备好后请重试。",
    "No passkey yet.": "尚未添加通行密钥。",
    "Passkey": "通行密钥",
    "Passkey added.": "已添加通行密钥。",
    "Passkey removed.": "已移除通行密钥。",
    "Passkeys": "通行密钥",
    "Passkeys need JavaScript. Turn it on, or choose another way.": (
        "通行密钥需要 JavaScript。请启用 JavaScript，或选择其他验证方式。"
    ),
    "Remove a passkey": "移除通行密钥",
    "Remove {name}": "移除 {name}",
    "Remove “{name}”": "移除“{name}”",
    "So you can tell your passkeys apart, e.g. “Work laptop”.": (
        "便于区分您的各个通行密钥，例如“工作笔记本”。"
    ),
    "The passkey was not used. Try again, or choose another way.": (
        "未使用通行密钥。请重试，或选择其他验证方式。"
    ),
    "Use the passkey on this device, or your security key, to confirm it's you.": (
        "请使用此设备上的通行密钥或您的安全密钥确认是您本人。"
    ),
    "Use your passkey": "使用通行密钥",
    "You will no longer be able to use this passkey to verify it's you. The passkey stays "
    "on your device until you delete it there.": (
        "移除后将无法再使用此通行密钥验证身份。通行密钥会保留在您的设备上，直到您在设备上将其删除。"
    ),
    "your new passkey": "新的通行密钥",
}

register("zh", ZH)
