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
    "Add an email address": "添加电子邮件地址",
    "Code from the email": "邮件中的验证码",
    "Email": "电子邮件",
    "Email address": "电子邮件地址",
    "Email address removed.": "已移除电子邮件地址。",
    "Email address verified.": "电子邮件地址已验证。",
    "Email addresses": "电子邮件地址",
    "No email address yet.": "尚未添加电子邮件地址。",
    "Use another address": "使用其他地址",
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
}

register("zh", ZH)
