"""CloudFormation: AWS::NoValue inside a list, and AWS::IAM::Group.

- An `Fn::If` (or `Ref`) that gives AWS::NoValue inside a list removes that element, as CloudFormation
  does; moto left a null in the list (e.g. in a trust policy's aws:PrincipalArn values: the member
  template's Discover role where it is not trusted).
- AWS::IAM::Group (GroupName, Path, ManagedPolicyArns; Ref gives the name, GetAtt Arn the ARN), which
  moto does not support: the member template's quarantine group.
"""

from moto.cloudformation import exceptions as cfn_exceptions
from moto.cloudformation import parsing as cfn_parsing
from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

_clean_json = cfn_parsing.clean_json


def _clean_json_without_novalue(resource_json, resources_map):
    if isinstance(resource_json, list):
        cleaned = [(val, _clean_json_without_novalue(val, resources_map)) for val in resource_json]
        # An intrinsic function that came to AWS::NoValue (None) is no element at all.
        return [c for val, c in cleaned if not (c is None and isinstance(val, dict))]
    return _clean_json(resource_json, resources_map)


def _define_iam_group():
    """Defines AWS::IAM::Group for moto's CloudFormation: defining the model is registering it (moto
    finds its models as CloudFormationModel's subclasses)."""

    class _CfnIamGroup(CloudFormationModel):
        """AWS::IAM::Group for moto's CloudFormation: creates the group in moto's IAM backend."""

        # moto's model metaclass files each model under the service named by its module.
        __module__ = "moto.iam.models"

        def __init__(self, group):
            self.group = group

        @property
        def physical_resource_id(self):
            return self.group.name

        @staticmethod
        def cloudformation_name_type():
            return "GroupName"

        @staticmethod
        def cloudformation_type():
            return "AWS::IAM::Group"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr in ["Arn"]

        def get_cfn_attribute(self, attribute_name):
            if attribute_name == "Arn":
                return self.group.arn
            raise cfn_exceptions.UnformattedGetAttTemplateException()

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
            properties = cloudformation_json.get("Properties", {})
            name = properties.get("GroupName", resource_name)
            backend = iam_backends[account_id][get_partition(region_name)]
            group = backend.create_group(name, properties.get("Path", "/"))
            for policy_arn in properties.get("ManagedPolicyArns", []):
                backend.attach_group_policy(policy_arn, name)
            return cls(group)

    return _CfnIamGroup


def apply():
    cfn_parsing.clean_json = _clean_json_without_novalue
    _define_iam_group()
    # The model lists are cached: drop what was cached before the model above existed.
    cfn_parsing.get_model_list.cache_clear()
    cfn_parsing.get_model_map.cache_clear()
    cfn_parsing.get_name_type_map.cache_clear()
