"""The "families" group of tests/models/make_models.py (issue 17): models a user brings beyond image
classification, each with its natural dynamic dimensions. Built by `make_models.py --group families`
(ctest's make_family_models fixture) for tests/e2e/test_export_families.py.

Nothing is downloaded: every model is built from its library's own classes and builders with random
(seeded) weights, shrunk where the standard size would make the fixture slow (each `shrunk` says how):
  segmentation  torchvision FCN, DeepLabV3, LRASPP (scripted and traced): batch, H, W
  speech        torchaudio wav2vec2 and WavLM (wav2vec2_model / wavlm_model builders; scripted): batch, time
  text          HF transformers BERT and GPT-2 from small configs, torchscript=True (traced): batch, sequence
  video         torchvision VideoResNet as r3d_18 and r(2+1)d_18 (scripted and traced): batch, T, H, W
  flow          torchvision raft_small (scripted): batch, H, W (multiples of 8, at least 128)
  detection     torchvision ssdlite320_mobilenet_v3_large (scripted, and traced through a wrapper that returns
                the first image's boxes, scores and labels): H, W
"""
from __future__ import annotations

import torch

from model_spec import Spec, T, seeded


def _fcn():
    # torchvision's fcn_resnet50 is FCN(IntermediateLayerGetter(resnet50 with dilation), FCNHead(2048, n)):
    # the same, on a dilated ResNet with one Bottleneck per stage and narrow groups
    from torchvision.models import resnet
    from torchvision.models._utils import IntermediateLayerGetter
    from torchvision.models.segmentation.fcn import FCN, FCNHead
    backbone = resnet.ResNet(resnet.Bottleneck, [1, 1, 1, 1], width_per_group=16,
                             replace_stride_with_dilation=[False, True, True])
    backbone = IntermediateLayerGetter(backbone, return_layers={"layer4": "out", "layer3": "aux"})
    return FCN(backbone, FCNHead(2048, 4), FCNHead(1024, 4))


def _deeplabv3():
    from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large
    return deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=4, aux_loss=False)


def _lraspp():
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large
    return lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=4)


_SPEECH_COMMON = dict(extractor_conv_layer_config=[(32, 10, 5), (32, 3, 2), (32, 2, 2)], extractor_conv_bias=False,
                      encoder_embed_dim=64, encoder_projection_dropout=0.0, encoder_pos_conv_kernel=16,
                      encoder_pos_conv_groups=4, encoder_num_layers=2, encoder_num_heads=4,
                      encoder_attention_dropout=0.0, encoder_ff_interm_features=128, encoder_ff_interm_dropout=0.0,
                      encoder_dropout=0.0, encoder_layer_drop=0.0, aux_num_out=None)
_SPEECH_SHRUNK = ("feature extractor of 3 convolutions of 32 channels (strides 5, 2, 2) instead of 7 of 512; "
                  "encoder of 2 layers, width 64, 4 heads instead of 12 layers, 768, 12")


def _wav2vec2():
    import torchaudio
    # wav2vec2_large's layout (layer norm in the extractor, pre-norm encoder), shrunk
    return torchaudio.models.wav2vec2_model(extractor_mode="layer_norm", encoder_layer_norm_first=True,
                                            **_SPEECH_COMMON)


def _wavlm():
    import torchaudio
    return torchaudio.models.wavlm_model(extractor_mode="group_norm", encoder_layer_norm_first=False,
                                         encoder_num_buckets=32, encoder_max_distance=64, **_SPEECH_COMMON)


def _bert():
    import transformers
    cfg = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=64, max_position_embeddings=64, torchscript=True,
                                  return_dict=False)
    return transformers.BertModel(cfg)


def _gpt2():
    import transformers
    cfg = transformers.GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64, torchscript=True,
                                  return_dict=False, use_cache=False)
    return transformers.GPT2Model(cfg)


def _video(conv, stem):
    def build():
        from torchvision.models import video
        return video.resnet.VideoResNet(video.resnet.BasicBlock, [getattr(video.resnet, conv)] * 4, [1, 1, 1, 1],
                                        getattr(video.resnet, stem), num_classes=10)
    return build


def _raft():
    from torchvision.models.optical_flow import raft_small
    return raft_small(weights=None)


def _ssdlite():
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large
    m = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)
    # Untrained, the batch norms' statistics (mean 0, var 1) shrink the features to ~1e-13: every anchor
    # scores the same, ties decide which boxes are kept, and torchvision's two NMS algorithms (eager:
    # per class; traced: the coordinate trick) break ties differently. Statistics of random images
    # (batch norms in training mode on the backbone and head) give distinct scores.
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.momentum = None  # a plain average of the batches below
        m.backbone.train()
        m.head.train()
        for _ in range(3):
            m.head(list(m.backbone(torch.rand(2, 3, 320, 320)).values()))
    return m


class _FirstImage(torch.nn.Module):
    """What a user traces of a torchvision detection model: torch.jit.trace cannot return its list of
    dicts, so the first image's (boxes, scores, labels) (the order of the dict's keys)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, images: list[torch.Tensor]):
        d = self.model(images)[0]
        return d["boxes"], d["scores"], d["labels"]


def _image_spec(base, build, hw=64, lo=32, hi=224, arg="x", **kw):
    return Spec(base, seeded(build), [T([2, 3, hw, hw], ["batch", None, "h", "w"], name=arg)],
                {"batch": [1, 16], "h": [lo, hi], "w": [lo, hi]},
                [{"batch": 1, "h": lo, "w": lo}, {"batch": 3, "h": lo + 11, "w": lo + 29},
                 {"batch": 1, "h": min(hi, 128), "w": min(hi, 128)}], group="families", atol=1e-3, **kw)


def _speech_spec(base, build, **kw):
    return Spec(base, seeded(build), [T([2, 1600], ["batch", "time"], name="waveforms")],
                {"batch": [1, 16], "time": [400, 16000]},
                [{"batch": 1, "time": 400}, {"batch": 3, "time": 4001}, {"batch": 1, "time": 16000}],
                kinds=("scripted",), group="families", atol=1e-3, shrunk=_SPEECH_SHRUNK, **kw)


def _text_spec(base, build, with_mask, **kw):
    ids = T([2, 8], ["batch", "seq"], dtype="int64", name="input_ids",
            data={"random": {"dist": "int", "low": 0, "high": 100, "seed": 0}})
    args = [ids] + ([T([2, 8], ["batch", "seq"], dtype="int64", name="attention_mask", data={"fill": 1})]
                    if with_mask else [])
    return Spec(base, seeded(build), args, {"batch": [1, 16], "seq": [2, 64]},
                [{"batch": 1, "seq": 2}, {"batch": 3, "seq": 37}, {"batch": 16, "seq": 64}],
                kinds=("traced",), group="families", atol=1e-4, **kw)


_VIDEO_TORCH = ("fails: guards (t - 1) // 2 + 1 != 1 and (h - 1) // 16 + 1 != 1 (the last feature map must not "
                "be 1 long: torch assumes sizes >= 2), for t in [1, 16] and h, w in [16, 112]")


def _video_spec(base, build, **kw):
    return Spec(base, seeded(build), [T([2, 3, 4, 32, 32], ["batch", None, "t", "h", "w"], name="x")],
                {"batch": [1, 8], "t": [1, 16], "h": [16, 112], "w": [16, 112]},
                [{"batch": 1, "t": 1, "h": 16, "w": 16}, {"batch": 2, "t": 7, "h": 45, "w": 29},
                 {"batch": 1, "t": 16, "h": 112, "w": 112}], group="families", atol=1e-3, **kw)


def specs() -> list[Spec]:
    return [
        _image_spec("fcn", _fcn, torch_export="exports with the same ranges",
                    shrunk="fcn_resnet50's layout (dilated ResNet, FCNHead, aux head) on a ResNet with one "
                           "Bottleneck per stage and width_per_group 16",
                    notes="returns a dict {'out', 'aux'}: the backbone's dict is indexed (features['out'])"),
        _image_spec("deeplabv3", _deeplabv3, torch_export="exports with the same ranges",
                    notes="deeplabv3_mobilenet_v3_large as is (4 classes); returns a dict {'out'}"),
        _image_spec("lraspp", _lraspp, arg="input", torch_export="exports with the same ranges",
                    notes="lraspp_mobilenet_v3_large as is (4 classes); returns a dict {'out'}"),
        _speech_spec("wav2vec2", _wav2vec2, torch_export="exports with the same ranges",
                     notes="torchaudio wav2vec2_model (layer_norm extractor, pre-norm encoder); returns "
                           "(features, lengths) with lengths None"),
        _speech_spec("wavlm", _wavlm, torch_export="exports with the same ranges",
                     notes="torchaudio wavlm_model (gated relative position bias; its scripted code moves "
                           "a tensor with aten::to.prim_Device)"),
        _text_spec("bert", _bert, with_mask=True, torch_export="exports with the same ranges",
                   shrunk="BertConfig(hidden 32, 2 layers, 4 heads, vocab 100, 64 positions)",
                   notes="transformers BertModel, torchscript=True: returns (last_hidden_state, pooler_output)"),
        _text_spec("gpt2", _gpt2, with_mask=False, torch_export="exports with the same ranges",
                   shrunk="GPT2Config(n_embd 32, 2 layers, 4 heads, vocab 100, 64 positions)",
                   notes="transformers GPT2Model, torchscript=True, no cache: returns (last_hidden_state,)"),
        _video_spec("r3d", _video("Conv3DSimple", "BasicStem"), torch_export=_VIDEO_TORCH,
                    shrunk="torchvision r3d_18's VideoResNet (BasicStem, Conv3DSimple) with one block per "
                           "stage instead of two"),
        _video_spec("r2plus1d", _video("Conv2Plus1D", "R2Plus1dStem"), torch_export=_VIDEO_TORCH,
                    shrunk="torchvision r2plus1d_18's VideoResNet (R2Plus1dStem, Conv2Plus1D) with one block "
                           "per stage instead of two"),
        Spec("raft", seeded(_raft), [T([2, 3, 128, 128], ["batch", None, "8*h8", "8*w8"], name="image1"),
                                     T([2, 3, 128, 128], ["batch", None, "8*h8", "8*w8"], name="image2"),
                                     {"name": "num_flow_updates", "value": 2}],
             {"batch": [1, 4], "h8": [16, 40], "w8": [16, 40]},
             [{"batch": 1, "h8": 16, "w8": 16}, {"batch": 2, "h8": 19, "w8": 17}],
             kinds=("scripted",), group="families", atol=1e-3,
             notes="torchvision raft_small as is, 2 flow updates (an int input); assigns self.corr_pyramid in "
                   "forward; returns the list of flow predictions",
             torch_export="fails: batch specialized to 2 (guard ((3*batch - 1) // batch) == 2, from the "
                          "correlation volume's reshape), suggested fix batch = 2"),
        Spec("ssdlite", seeded(_ssdlite), [{"name": "images", "value": [T([3, 320, 320], [None, "h", "w"])]}],
             {"h": [160, 640], "w": [160, 640]}, [{"h": 160, "w": 160}, {"h": 333, "w": 250}],
             group="families", atol=1e-3, trace_wrapper=_FirstImage,
             notes="torchvision ssdlite320_mobilenet_v3_large as is (91 classes); calls torchvision::nms; "
                   "returns (losses, detections); traced: (boxes, scores, labels) of the first image",
             torch_export="fails: GuardOnDataDependentSymNode on the detections' size (a sum of Min(300, u_i) "
                          "over the 90 classes' score filters)"),
    ]
